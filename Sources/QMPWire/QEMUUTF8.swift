/// QEMU's "modified UTF-8" rules (`util/unicode.c`), used where QEMU validates or decodes bytes.
///
/// Differences from standard UTF-8: the overlong two-byte form `C0 80` is accepted as U+0000, and
/// noncharacters (U+FDD0–U+FDEF and U+xxFFFE/U+xxFFFF) are rejected like surrogates.
public enum QEMUUTF8 {
    /// Whether QEMU accepts `codepoint` in a string (`is_valid_codepoint`).
    @inlinable public static func isValid(_ codepoint: Int32) -> Bool {
        if codepoint < 0 || codepoint > 0x10FFFF { return false }
        if (codepoint >= 0xFDD0 && codepoint <= 0xFDEF) || (codepoint & 0xFFFE) == 0xFFFE { return false }
        if codepoint >= 0xD800 && codepoint <= 0xDFFF { return false }
        return true
    }

    @usableFromInline static let minimumForLength: [Int32] = [0x80, 0x800, 0x10000, 0x20_0000, 0x400_0000]

    /// Decodes one code point starting at `start` (`mod_utf8_codepoint`): returns it, or -1 when the
    /// sequence is invalid, and the index just past the bytes QEMU consumed.
    @inlinable public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (Int32, Int) {
        var p = start
        let lead = bytes[p]
        p += 1
        if lead < 0x80 { return (Int32(lead), p) }
        if lead >= 0xFE || lead & 0x40 == 0 { return (-1, p) }
        var length = 0
        var mask: UInt8 = 0x80
        while lead & mask != 0 {
            length += 1
            mask >>= 1
        }
        var cp = Int32(lead & (mask &- 1))
        for _ in 1..<length {
            let byte: UInt8 = p < bytes.count ? bytes[p] : 0
            if byte & 0xC0 != 0x80 { return (-1, p) }
            p += 1
            cp = (cp << 6) | Int32(byte & 0x3F)
        }
        if !isValid(cp) { return (-1, p) }
        if cp < minimumForLength[length - 2] && !(cp == 0 && length == 2) { return (-1, p) }
        return (cp, p)
    }

    /// Turns raw bytes into text as QEMU prints them through `%s` and its JSON writer: stops at the
    /// first NUL byte (C string), and each invalid sequence becomes U+FFFD.
    public static func lossyString(_ bytes: some Collection<UInt8>) -> String {
        let array = Array(bytes)
        return array.withUnsafeBufferPointer { buffer in
            String(unsafeUninitializedCapacity: 3 * buffer.count) { writeLossy(buffer, into: $0, at: 0) }
        }
    }

    /// Writes the UTF-8 of ``lossyString(_:)`` of `bytes` into `out` from `start` and returns the
    /// index after it; `out` needs room for 3 bytes per byte of `bytes` (U+FFFD for each).
    static func writeLossy(
        _ bytes: UnsafeBufferPointer<UInt8>,
        into out: UnsafeMutableBufferPointer<UInt8>,
        at start: Int
    )
        -> Int
    {
        var n = start
        var i = 0
        while i < bytes.count, bytes[i] != 0 {
            let (decoded, next) = decode(bytes, at: i)
            i = next
            // `decode` returns only valid code points (no surrogates) or -1.
            let scalar = decoded >= 0 ? Unicode.Scalar(UInt32(decoded)) ?? "\u{FFFD}" : "\u{FFFD}"
            UTF8.encode(scalar) { unit in
                out[n] = unit
                n += 1
            }
        }
        return n
    }
}
