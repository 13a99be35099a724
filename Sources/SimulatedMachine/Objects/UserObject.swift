public import QMPWire

/// One object under QOM's `/objects` container: created by `object-add` (or a configuration file's
/// `objects:` entry), or built in (the machine's RAM, `pc.ram`).
///
/// Nothing is simulated behind it: a memory backend allocates no memory, an iothread runs no thread,
/// an RNG backend reads no entropy. It keeps what a client can observe or rely on: the type, the
/// properties as `qom-get`, `query-memdev` and `query-iothreads` report them, and how many devices
/// link to it (a memory backend a device maps cannot be deleted).
public struct UserObject: Sendable, Equatable {
    /// The id (the child's name under `/objects`).
    public let id: String
    public let kind: ObjectKind
    /// The `object-add` members as given (the type's defaults are applied when they are read).
    public let options: JSONObject
    /// Created by the machine itself (`pc.ram`): always in use, never deletable.
    public let isBuiltin: Bool
    /// A number no other object of this machine had: a link made to this object names it, so that a
    /// new object of the same id (after `object-del`) is never mistaken for the one a device linked to.
    public let serial: Int
    /// How many device links point at it.
    public internal(set) var users = 0
    /// An iothread's creation number (1 for the first iothread ever created), behind its fake `thread-id`.
    public internal(set) var threadNumber = 0

    init(id: String, kind: ObjectKind, options: JSONObject, serial: Int, isBuiltin: Bool = false) {
        self.id = id
        self.kind = kind
        self.options = options
        self.serial = serial
        self.isBuiltin = isBuiltin
    }

    /// The QOM path (`/objects/ID`), what a link property reads back.
    public var path: String { "/objects/\(id)" }

    func bool(_ name: String, default value: Bool) -> Bool { options[name]?.boolValue ?? value }

    func int(_ name: String, default value: Int64) -> Int64 { options[name]?.int64Value ?? value }

    /// A `size` member as QEMU's visitor reads it into a uint64 (a negative number wraps).
    func size(_ name: String) -> UInt64 {
        switch options[name] {
        case .int(let i): UInt64(bitPattern: i)
        case .uint(let u): u
        default: 0
        }
    }
}
