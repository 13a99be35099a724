/// The line of an event whose name and data keys never change (`GUEST_REGISTER_WRITE`), cut once
/// into the literal runs between its values: rendering one copies the runs and writes the values
/// (timestamp, then data in QDict order), with no member keys, punctuation or order to work out
/// per event.
///
/// The runs come from the writer of every event line
/// (``QMPMessage/appendEventLine(_:data:seconds:microseconds:to:)``) run once with placeholders
/// where the values go, so the template's lines are byte for byte that writer's.
public struct EventLineTemplate: Sendable {
    /// The line with its placeholders taken out: the literal runs around the values, one after the
    /// other (one array, so that copying a run costs no reference counting).
    private let text: [UInt8]
    /// Where each run ends in ``text``: run 0, value 0, run 1, ..., value n-1, run n.
    private let runEnds: [Int]
    /// What each value is, in wire order.
    private let values: [Value]

    private enum Value: Sendable {
        case seconds, microseconds
        case data(Int)
    }

    /// A template for the event `name` whose data object has the members `dataKeys`.
    /// - Parameters:
    ///   - name: the event name.
    ///   - dataKeys: the data member keys in the order the object would be built (which decides its
    ///     QDict order).
    public init(name: String, dataKeys: [String]) {
        var keys = JSONObject(capacity: dataKeys.count)
        for key in dataKeys { keys.append(key, .null) }
        // A placeholder is a NUL byte, which the writer never emits (control characters are
        // escaped); `values` records what each one stands for, in wire order.
        var values: [Value] = []
        var line: [UInt8] = []
        func placeholder(_ value: Value, _ out: inout [UInt8]) {
            out.append(0)
            values.append(value)
        }
        QMPMessage.appendEventLine(name, hasData: true, to: &line) { value, out in
            switch value {
            case .seconds: placeholder(.seconds, &out)
            case .microseconds: placeholder(.microseconds, &out)
            case .data: JSONWriter.writeObject(keys, into: &out) { placeholder(.data($0), &$1) }
            }
        }
        let runs = line.split(separator: 0, omittingEmptySubsequences: false)
        self.text = Array(runs.joined())
        self.runEnds = runs.reduce(into: []) { ends, run in ends.append((ends.last ?? 0) + run.count) }
        self.values = values
    }

    /// Appends the event line: `value(i, &out)` writes the value of data key `i` (once per key).
    public func append(
        seconds: Int64,
        microseconds: Int64,
        to out: inout [UInt8],
        value: (Int, inout [UInt8]) -> Void
    ) {
        text.withUnsafeBufferPointer { text in
            runEnds.withUnsafeBufferPointer { ends in
                out.append(contentsOf: UnsafeBufferPointer(rebasing: text[0..<ends[0]]))
                for k in 0..<values.count {
                    switch values[k] {
                    case .seconds: JSONWriter.writeInteger(seconds, into: &out)
                    case .microseconds: JSONWriter.writeInteger(microseconds, into: &out)
                    case .data(let index): value(index, &out)
                    }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: text[ends[k]..<ends[k + 1]]))
                }
            }
        }
    }
}
