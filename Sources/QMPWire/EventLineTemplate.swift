/// The line of an event whose name and data keys never change (`GUEST_REGISTER_WRITE`), cut once
/// into the literal runs between its values: rendering one copies the runs and writes the values
/// (timestamp, then data in QDict order), with no member keys, punctuation or order to work out
/// per event.
///
/// The template is cut from a line ``QMPMessage/appendEventLine(_:seconds:microseconds:to:data:)``
/// renders with placeholders in place of the values, so its output is byte for byte the generic
/// path's.
public struct EventLineTemplate: Sendable {
    /// The literal runs around the values: `runs[0]`, value 0, `runs[1]`, ..., value n-1, `runs[n]`.
    private let runs: [[UInt8]]
    /// What each value is, in wire order: a data key's index, or a timestamp tag.
    private let values: [UInt8]

    /// A placeholder is a NUL byte, which the writer never emits (control characters are escaped),
    /// followed by a tag: the data key's index, or one of these two for the timestamp.
    private static let secondsTag: UInt8 = 0xFE
    private static let microsecondsTag: UInt8 = 0xFF

    /// - Parameters:
    ///   - name: the event name.
    ///   - dataKeys: the data member keys in the order the object would be built (fewer than 254).
    public init(name: String, dataKeys: [String]) {
        precondition(dataKeys.count < Int(Self.secondsTag), "too many data keys")
        let layout = QDictLayout(keys: dataKeys)
        var line: [UInt8] = []
        QMPMessage.appendEventLine(name, seconds: 0, microseconds: 0, to: &line) { out in
            JSONWriter.writeObject(layout: layout, into: &out) { index, out in
                out.append(0)
                out.append(UInt8(index))
            }
        }
        // The envelope wrote `"seconds": 0` and `"microseconds": 0`: placeholders for both values.
        line = Self.markTimestamp(in: line, key: "\"seconds\": 0", tag: Self.secondsTag)
        line = Self.markTimestamp(in: line, key: "\"microseconds\": 0", tag: Self.microsecondsTag)
        var runs: [[UInt8]] = [[]]
        var values: [UInt8] = []
        var i = 0
        while i < line.count {
            if line[i] == 0 && i + 1 < line.count {
                values.append(line[i + 1])
                runs.append([])
                i += 2
            } else {
                runs[runs.count - 1].append(line[i])
                i += 1
            }
        }
        self.runs = runs
        self.values = values
    }

    /// `line` with the `0` after `key` replaced by a placeholder tagged `tag`.
    private static func markTimestamp(in line: [UInt8], key: String, tag: UInt8) -> [UInt8] {
        let pattern = Array(key.utf8)
        guard let start = line.indices.first(where: { line[$0...].starts(with: pattern) }) else { return line }
        let zero = start + pattern.count - 1
        return Array(line[..<zero]) + [0, tag] + Array(line[(zero + 1)...])
    }

    /// Appends the event line: `value(i, &out)` writes the value of data key `i` (once per key).
    public func append(
        seconds: Int64,
        microseconds: Int64,
        to out: inout [UInt8],
        value: (Int, inout [UInt8]) -> Void
    ) {
        out.append(contentsOf: runs[0])
        for k in 0..<values.count {
            switch values[k] {
            case Self.secondsTag: JSONWriter.writeInteger(seconds, into: &out)
            case Self.microsecondsTag: JSONWriter.writeInteger(microseconds, into: &out)
            case let index: value(Int(index), &out)
            }
            out.append(contentsOf: runs[k + 1])
        }
    }
}
