/// QEMU's JSON input pipeline for a QMP monitor, as one incremental state machine: the lexer
/// (`json-lexer.c`), the streamer that cuts messages by brace/bracket balance (`json-streamer.c`) and
/// the parser (`json-parser.c`), with QEMU's error texts, resynchronisation and limits.
///
/// Feed it bytes as they arrive and pull results with ``next(from:position:)``, the way swift-nio's
/// decoders are driven: it returns one parsed message or one error at a time and `nil` when it
/// needs more bytes. Input is never split on newlines; a message may arrive in any number of pieces
/// and many messages may come in one piece.
public struct JSONStreamParser: Sendable {
    /// QEMU's limits per message.
    public struct Limits: Sendable, Equatable {
        /// Total bytes of a message's tokens, and of any single token (`MAX_TOKEN_SIZE`, 64 MiB).
        public var maxMessageBytes: Int
        /// Tokens per message (`MAX_TOKEN_COUNT`, 2^21).
        public var maxTokens: Int
        /// Open `{` plus `[` (`MAX_NESTING`, 1024).
        public var maxNesting: Int

        public init(maxMessageBytes: Int = 64 << 20, maxTokens: Int = 2 << 20, maxNesting: Int = 1024) {
            self.maxMessageBytes = maxMessageBytes
            self.maxTokens = maxTokens
            self.maxNesting = maxNesting
        }

        /// QEMU's own values.
        public static let qemu = Limits()
    }

    /// A token of the current message: its kind and where its text lies in ``bytes``.
    struct Token: Sendable {
        var kind: UInt8
        var start: Int32
        var end: Int32
    }

    public let limits: Limits
    private var state: UInt8 = JSONLexerTable.start
    /// Text of the current message: its tokens (with the whitespace between them while the message
    /// is small, for transcripts) followed by the partial token being lexed.
    private var bytes: [UInt8] = []
    private var tokenStart = 0
    private var tokens: [Token] = []
    private var braces = 0
    private var brackets = 0
    private var tokenBytes = 0
    private var resetPending = false
    /// Whitespace inside a message is kept (for ``lastMessageText``) only below this size.
    private static let rawTextCap = 64 << 10

    public init(limits: Limits = .qemu) {
        self.limits = limits
        bytes.reserveCapacity(512)
        tokens.reserveCapacity(64)
    }

    /// The text of the message or error that the last ``next(from:position:)`` returned, as received
    /// (whitespace between tokens of large messages dropped). Valid until the next call.
    public var lastMessageText: ArraySlice<UInt8> { bytes[0..<min(tokenStart, bytes.count)] }

    /// Whether a message is partly received (the parser is not between messages).
    public var isMidMessage: Bool {
        !resetPending && (!tokens.isEmpty || state != JSONLexerTable.start)
    }

    /// Forgets everything, as QEMU re-creates the parser when a client disconnects.
    public mutating func reset() {
        state = JSONLexerTable.start
        clearMessage()
    }

    private mutating func clearMessage() {
        Self.empty(&bytes, keepingUpTo: 1 << 20)
        Self.empty(&tokens, keepingUpTo: 1 << 16)
        tokenStart = 0
        braces = 0
        brackets = 0
        tokenBytes = 0
        resetPending = false
    }

    /// Empties `array`, keeping its storage unless its capacity is above `limit`. A few elements (the
    /// usual message: garbage makes an error per byte) are dropped one by one: `removeAll` is a
    /// generic range replacement, and under the fuzzers' comparison tracing it cost more than the
    /// message's parse.
    @inline(__always)
    private static func empty<Element>(_ array: inout [Element], keepingUpTo limit: Int) {
        if array.count <= 8 && array.capacity <= limit {
            while !array.isEmpty { array.removeLast() }
        } else {
            array.removeAll(keepingCapacity: array.capacity <= limit)
        }
    }

    /// Lexes `buffer` from `position` until one message or error is complete and returns it,
    /// advancing `position` past the bytes consumed; returns `nil` once `buffer` is exhausted.
    public mutating func next(from buffer: UnsafeRawBufferPointer, position: inout Int) -> Result<JSONValue, QMPError>?
    {
        if resetPending { clearMessage() }
        let table = JSONLexerTable.self
        return table.table.withUnsafeBufferPointer { transitions -> Result<JSONValue, QMPError>? in
            // Invariant at the top of the loop: in the start and recovery states `tokenStart ==
            // bytes.count` (a finished token, kept or dropped whitespace, an error all leave it so),
            // which lets whitespace and recovery skip bytes without appending and removing them.
            let input = buffer.assumingMemoryBound(to: UInt8.self)
            let end = input.count
            var p = position
            defer { position = p }
            while p < end {
                let byte = input[p]
                let entry = transitions[Int(state) &* 256 &+ Int(byte)]
                if table.isInner(entry) {
                    // A run of bytes inside a token (string, number, keyword): consumed, nothing
                    // finished. Found with one table look-up and one comparison per byte and
                    // appended at once; it stops where the token would pass the size limit, so that
                    // the check below fires on the same byte as a check per byte would.
                    let runStart = p
                    let room = limits.maxMessageBytes &+ 1 &- (bytes.count &- tokenStart)
                    let stop = room < end &- p ? p &+ Swift.max(room, 1) : end
                    var next = entry
                    p &+= 1
                    while p < stop {
                        let e = transitions[Int(next) &* 256 &+ Int(input[p])]
                        if !table.isInner(e) { break }
                        next = e
                        p &+= 1
                    }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<p]))
                    state = next
                    if bytes.count &- tokenStart > limits.maxMessageBytes {
                        // QEMU's lexer hands an oversized partial token to the streamer, which rejects it.
                        state = table.start
                        tokenStart = bytes.count
                        resetPending = true
                        return .failure(.generic("JSON token size limit exceeded"))
                    }
                    continue
                }
                if entry == table.recovery {
                    // Skip until the byte that ends recovery (nothing is kept).
                    p &+= 1
                    while p < end && transitions[Int(table.recovery) &* 256 &+ Int(input[p])] == table.recovery {
                        p &+= 1
                    }
                    state = table.recovery
                    continue
                }
                if entry == table.start {
                    // Whitespace: kept only inside a message that is still small.
                    p &+= 1
                    state = table.start
                    if !tokens.isEmpty && bytes.count < Self.rawTextCap {
                        bytes.append(byte)
                        tokenStart = bytes.count
                    }
                    continue
                }
                let next = entry & ~table.lookahead
                if entry & table.lookahead == 0 {
                    bytes.append(byte)
                    p &+= 1
                }
                if next == table.error {
                    state = table.recovery
                    let text = strayText()
                    tokenStart = bytes.count
                    resetPending = true
                    return .failure(.generic(text))
                }
                state = table.start
                // The end of recovery (`start` not consumed) leaves nothing to drop.
                if next <= table.lastToken, let result = finishToken(kind: next) { return result }
            }
            return nil
        }
    }

    /// `JSON parse error, stray 'TEXT'` for the bytes from `tokenStart`: a one-byte token's text
    /// from ``strayTexts``, a longer one's built.
    private func strayText() -> String {
        if bytes.count - tokenStart == 1 { return Self.strayTexts[Int(bytes[tokenStart])] }
        return bytes.withUnsafeBufferPointer { Self.strayText(UnsafeBufferPointer(rebasing: $0[tokenStart...])) }
    }

    /// The stray texts of the 256 one-byte tokens, made once: garbage input makes an error per byte,
    /// and a shared text costs a retain where building it cost an allocation.
    private static let strayTexts: [String] = (0...255).map { (byte: UInt8) in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { one in
            one[0] = byte
            return strayText(UnsafeBufferPointer(one))
        }
    }

    /// `JSON parse error, stray 'TEXT'` for `token`, as QEMU prints it (``QEMUUTF8/lossyString(_:)``),
    /// built in one allocation.
    private static func strayText(_ token: UnsafeBufferPointer<UInt8>) -> String {
        let prefix: StaticString = "JSON parse error, stray '"
        return String(unsafeUninitializedCapacity: prefix.utf8CodeUnitCount + 3 * token.count + 1) { out in
            var n = prefix.utf8CodeUnitCount
            _ = out.initialize(from: UnsafeBufferPointer(start: prefix.utf8Start, count: n))
            n = QEMUUTF8.writeLossy(token, into: out, at: n)
            out[n] = UInt8(ascii: "'")
            return n + 1
        }
    }

    /// The streamer: queue a finished token, check limits, and parse once the message is balanced.
    private mutating func finishToken(kind: UInt8) -> Result<JSONValue, QMPError>? {
        let t = JSONLexerTable.self
        switch kind {
        case t.leftBrace: braces += 1
        case t.rightBrace: braces -= 1
        case t.leftBracket: brackets += 1
        case t.rightBracket: brackets -= 1
        default: break
        }
        let length = bytes.count - tokenStart
        if tokenBytes + length + 1 > limits.maxMessageBytes {
            return limitError("JSON token size limit exceeded")
        }
        if tokens.count + 1 > limits.maxTokens {
            return limitError("JSON token count limit exceeded")
        }
        if braces + brackets > limits.maxNesting {
            return limitError("JSON nesting depth limit exceeded")
        }
        tokens.append(Token(kind: kind, start: Int32(tokenStart), end: Int32(bytes.count)))
        tokenBytes += length
        tokenStart = bytes.count
        if (braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0 {
            return nil
        }
        resetPending = true
        var parser = JSONTokenParser(tokens: tokens, bytes: bytes)
        do throws(QMPError) {
            return .success(try parser.parseMessage())
        } catch {
            return .failure(error)
        }
    }

    private mutating func limitError(_ text: String) -> Result<JSONValue, QMPError> {
        tokenStart = bytes.count
        resetPending = true
        return .failure(.generic(text))
    }
}
