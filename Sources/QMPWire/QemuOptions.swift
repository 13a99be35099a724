/// QEMU's `key=value,...` option syntax (`QemuOpts`, as `-device`, `-drive`, `-netdev` and HMP's
/// `device_add`/`drive_add`/`netdev_add` read it): elements split at `,`, where `,,` stands for a
/// literal comma; the first element may omit its key (the *implied* key: `virtio-net-pci,id=n1`
/// is `driver=virtio-net-pci,id=n1`); an element without `=` elsewhere is a flag, `key` meaning
/// `key=on` and `nokey` meaning `key=off`. Members keep their order, repeats included.
public enum QemuOptions {
    /// Parses `text`. With `impliedKey`, a first element without `=` is that key's value.
    public static func parse(_ text: String, impliedKey: String?) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        let bytes = Array(text.utf8)
        var position = 0
        var first = true
        while position < bytes.count {
            // The element's name part runs to '=' or ','; its value (after '=') to a single ','.
            let nameStart = position
            while position < bytes.count && bytes[position] != UInt8(ascii: "=") && bytes[position] != UInt8(ascii: ",")
            {
                position += 1
            }
            if first, let impliedKey, position == bytes.count || bytes[position] == UInt8(ascii: ",") {
                position = nameStart
                result.append((impliedKey, value(bytes, &position)))
            } else if position < bytes.count && bytes[position] == UInt8(ascii: "=") {
                let name = String(decoding: bytes[nameStart..<position], as: UTF8.self)
                position += 1
                result.append((name, value(bytes, &position)))
            } else {
                let name = String(decoding: bytes[nameStart..<position], as: UTF8.self)
                if name.hasPrefix("no") && name.count > 2 {
                    result.append((String(name.dropFirst(2)), "off"))
                } else {
                    result.append((name, "on"))
                }
                if position < bytes.count { position += 1 }
            }
            first = false
        }
        return result
    }

    /// The options as one object, as QEMU's `qemu_opts_to_qdict` makes them: a repeated key keeps
    /// its first place and takes its last value. Values are text unless `value` reads them otherwise.
    public static func object(
        _ options: [(key: String, value: String)],
        value: (_ key: String, _ text: String) -> JSONValue = { .string($1) }
    ) -> JSONObject {
        var members: [(String, JSONValue)] = []
        var index: [String: Int] = [:]
        for option in options {
            let converted = value(option.key, option.value)
            if let i = index[option.key] {
                members[i].1 = converted
            } else {
                index[option.key] = members.count
                members.append((option.key, converted))
            }
        }
        return JSONObject(members)
    }

    /// Dotted keys as QEMU's keyval parser nests them (`-blockdev driver=qcow2,file.driver=file`):
    /// `a.b=v` is member `b` of the object member `a`, created at its first use. A repeated key
    /// takes its last value in its first place, as ``object(_:value:)`` does.
    public static func keyvalObject(_ options: [(key: String, value: JSONValue)]) -> JSONObject {
        var root = JSONObject()
        for option in options {
            let path = option.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            insert(option.value, at: path[...], into: &root)
        }
        return root
    }

    private static func insert(_ value: JSONValue, at path: ArraySlice<String>, into object: inout JSONObject) {
        guard let key = path.first else { return }
        var members = object.members.map { ($0.key, $0.value) }
        let index = members.firstIndex { $0.0 == key }
        if path.count == 1 {
            if let index { members[index].1 = value } else { members.append((key, value)) }
        } else {
            var child = JSONObject()
            if let index, case .object(let existing) = members[index].1 { child = existing }
            insert(value, at: path.dropFirst(), into: &child)
            if let index { members[index].1 = .object(child) } else { members.append((key, .object(child))) }
        }
        object = JSONObject(members)
    }

    /// A value up to the next single `,` (which is consumed), with `,,` read as `,`.
    private static func value(_ bytes: [UInt8], _ position: inout Int) -> String {
        var out: [UInt8] = []
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: ",") {
                if position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: ",") {
                    out.append(UInt8(ascii: ","))
                    position += 2
                    continue
                }
                position += 1
                break
            }
            out.append(bytes[position])
            position += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
