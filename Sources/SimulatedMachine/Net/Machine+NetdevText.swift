public import QMPWire

extension Machine {
    /// `netdev_add`'s arguments from QEMU's option text (HMP's `netdev_add type,id=...`, `-netdev`):
    /// each value read as its member's type, as QEMU's options visitor reads it (`on`/`off`,
    /// `yes`/`no`, `true`/`false` for booleans, decimal or `0x` numbers); a value that does not
    /// parse, or a member the type lacks, is left as text for ``netdevAdd(_:monitor:)``'s checks.
    /// A list member (`user`'s `hostfwd`, `guestfwd`) takes every occurrence of its key, each as
    /// `{"str": TEXT}`, as the options visitor builds QEMU's `String` lists from repeated keys.
    public func netdevArguments(fromText options: [(key: String, value: String)]) -> JSONObject {
        let type = options.last { $0.key == "type" }.flatMap { NetdevType(rawValue: $0.value) }
        let members = type?.members(streamReconnect: profile.netdevStreamHasReconnect) ?? []
        let lists = Set(members.filter { $0.type == .array(.object) }.map(\.name))
        return QemuOptions.object(options) { key, text in
            if lists.contains(key) {
                return .array(options.filter { $0.key == key }.map { .object(["str": .string($0.value)]) })
            }
            switch members.first(where: { $0.name == key })?.type {
            case .bool?:
                switch text {
                case "on", "yes", "true", "y": return .bool(true)
                case "off", "no", "false", "n": return .bool(false)
                default: return .string(text)
                }
            case .int?, .unsigned?:
                let number = text.hasPrefix("0x") ? Int64(text.dropFirst(2), radix: 16) : Int64(text)
                return number.map { .int($0) } ?? .string(text)
            default:
                return .string(text)
            }
        }
    }
}
