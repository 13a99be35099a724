/// An error class of QEMU's `qapi/error.json` (`QapiErrorClass`), the `class` member of an error reply.
///
/// The set is closed in QEMU 7.2–10.0; the raw value is what goes on the wire.
public struct QMPErrorClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The class of nearly every error.
    public static let genericError = QMPErrorClass(rawValue: "GenericError")
    /// Unknown command, negotiation-mode rejection, disabled command.
    public static let commandNotFound = QMPErrorClass(rawValue: "CommandNotFound")
    /// A device exists but is not active (e.g. no balloon).
    public static let deviceNotActive = QMPErrorClass(rawValue: "DeviceNotActive")
    /// A device id or QOM path that does not exist.
    public static let deviceNotFound = QMPErrorClass(rawValue: "DeviceNotFound")
    /// KVM lacks a capability.
    public static let kvmMissingCap = QMPErrorClass(rawValue: "KVMMissingCap")

    /// Every class QEMU defines.
    public static let all: [QMPErrorClass] = [
        .genericError, .commandNotFound, .deviceNotActive, .deviceNotFound, .kvmMissingCap,
    ]

    public var description: String { rawValue }
}
