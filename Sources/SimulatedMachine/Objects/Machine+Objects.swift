public import QMPWire

/// `object-add`, `object-del`, `query-memdev`, `query-iothreads`, the `/objects` container in QOM,
/// and the `link<TYPE>` device properties that point at objects (`rng`, `iothread`, `memdev`). Texts
/// and order of checks as measured on QEMU 7.2.22 and 10.0.2 (the `object-*` conformance scenarios
/// compare both): the QAPI visitor (`qom-type`, `id`, the variant's members), the id's syntax, the
/// property setters, the duplicate id, then the object's completion (its OS side through
/// ``ObjectTable/host``).
extension Machine {
    /// The machine's RAM as QEMU shows it: the `pc.ram` memory backend of `-m`'s size (``MemoryMap``).
    func addBuiltinObjects() {
        let ram: JSONObject = ["size": .uint(memoryMap.ramSize)]
        objects.objects.append(
            UserObject(id: "pc.ram", kind: .memoryBackendRAM, options: ram, serial: 0, isBuiltin: true)
        )
        objects.nextSerial = 1
    }

    /// `object-add` with its QMP arguments (the configuration's `objects:` entries are the same).
    ///
    /// - Parameter textValues: the arguments come from text (HMP's `object_add TYPE,id=ID,...`): every
    ///   value is a string the keyval visitor converts to the member's type, with its texts
    ///   (`Parameter 'size' expects size`, `Parameter 'merge' expects 'on' or 'off'`).
    public func objectAdd(_ arguments: JSONObject, textValues: Bool = false) throws(QMPError) {
        let base = [
            QAPIArgument("qom-type", .enumeration(ObjectKind.qapiValues(profile))), QAPIArgument("id", .string),
        ]
        try QAPIArguments(base, allowsExtraMembers: true).validate(arguments)
        let typeName = arguments["qom-type"]?.stringValue ?? ""
        let id = arguments["id"]?.stringValue ?? ""
        guard let kind = ObjectKind(rawValue: typeName) else {
            throw .generic("qmp-mockd does not simulate object type '\(typeName)'")
        }
        let members = kind.members(profile)
        var arguments = arguments
        if textValues { arguments = try Self.keyvalValues(arguments, members: members) }
        for member in members {
            guard let value = arguments[member.name] else {
                if member.optional { continue }
                throw .missingParameter(member.name)
            }
            try Self.checkObjectMember(value, member.type, name: member.name)
        }
        if let name = QObjectInputOrder.unexpectedMember(
            in: arguments,
            schemaOrder: ["qom-type", "id"] + members.map(\.name)
        ) {
            throw .unexpectedParameter(name)
        }
        guard Self.isIdentifier(id) else { throw .generic("Parameter 'id' expects an identifier") }
        var options = JSONObject()
        for member in arguments.members where member.key != "qom-type" && member.key != "id" {
            try setObjectProperty(member.key, member.value, kind: kind, setSoFar: options)
            options.append(member.key, member.value)
        }
        if objects.index(of: id) != nil {
            throw .generic("attempt to add duplicate property '\(id)' to object (type 'container')")
        }
        var object = UserObject(id: id, kind: kind, options: options, serial: objects.nextSerial)
        try complete(object)
        objects.nextSerial += 1
        if kind == .iothread {
            objects.iothreadsCreated += 1
            object.threadNumber = objects.iothreadsCreated
        }
        objects.objects.append(object)
    }

    /// `object-del`: a memory backend a device maps (and the machine's own RAM) cannot go; any other
    /// object goes even when devices link to it, which then read it back as `""`.
    public func objectDel(id: String) throws(QMPError) {
        guard let index = objects.index(of: id) else { throw .generic("object '\(id)' not found") }
        let object = objects.objects[index]
        if object.isBuiltin || (object.kind.isMemoryBackend && object.users > 0) {
            throw .generic("object '\(id)' is in use, can not be deleted")
        }
        objects.objects.remove(at: index)
    }

    /// `query-memdev`: `[Memdev]`, members in QEMU's order, objects in creation order.
    public func queryMemdev() -> JSONValue {
        .array(
            objects.objects.filter(\.kind.isMemoryBackend).map { object in
                var info = JSONObject(capacity: 9)
                info.append("share", .bool(object.bool("share", default: object.kind == .memoryBackendMemfd)))
                info.append("reserve", .bool(object.bool("reserve", default: true)))
                info.append("prealloc", .bool(object.bool("prealloc", default: false)))
                info.append("host-nodes", object.options["host-nodes"] ?? .array([]))
                info.append("size", .uint(object.size("size")))
                info.append("merge", .bool(object.bool("merge", default: true)))
                info.append("dump", .bool(object.bool("dump", default: true)))
                info.append("policy", object.options["policy"] ?? .string("default"))
                info.append("id", .string(object.id))
                return .object(info)
            }
        )
    }

    /// `query-iothreads`: `[IOThreadInfo]`. `thread-id` is a made-up number, stable for the object:
    /// 10000 + the order in which the iothread was created (QEMU reports the thread's real TID).
    public func queryIOThreads() -> JSONValue {
        var result: [JSONValue] = []
        for object in objects.objects where object.kind == .iothread {
            var info = JSONObject(capacity: 6)
            info.append("poll-shrink", .int(object.int("poll-shrink", default: 0)))
            info.append("thread-id", .int(Int64(10000 + object.threadNumber)))
            info.append("aio-max-batch", .int(object.int("aio-max-batch", default: 0)))
            info.append("poll-grow", .int(object.int("poll-grow", default: 0)))
            info.append("poll-max-ns", .int(object.int("poll-max-ns", default: 32768)))
            info.append("id", .string(object.id))
            result.append(.object(info))
        }
        return .array(result)
    }

    // MARK: Checks

    /// One variant member as QEMU's QAPI input visitor reads it.
    private static func checkObjectMember(
        _ value: JSONValue,
        _ type: ObjectKind.MemberType,
        name: String
    ) throws(QMPError) {
        switch type {
        case .string:
            guard case .string = value else { throw .invalidParameterType(name, expected: "string") }
        case .bool:
            guard case .bool = value else { throw .invalidParameterType(name, expected: "boolean") }
        case .int:
            guard case .int = value else { throw .invalidParameterType(name, expected: "integer") }
        case .size:
            switch value {
            case .int, .uint: break
            default: throw .parameterExpects(name, "uint64")
            }
        case .nodeList:
            guard case .array(let elements) = value else { throw .invalidParameterType(name, expected: "array") }
            for (index, element) in elements.enumerated() {
                switch element {
                case .int, .uint: break
                default: throw .parameterExpects("\(name)[\(index)]", "uint64")
                }
            }
        case .enumeration(let values):
            guard case .string(let text) = value else { throw .invalidParameterType(name, expected: "string") }
            guard values.contains(text) else { throw .invalidParameterValue(name, value: text) }
        }
    }

    /// Text values converted as QEMU's keyval input visitor converts them, members in schema order
    /// (a missing required member is left for the schema check, which reports it in the same order).
    private static func keyvalValues(
        _ arguments: JSONObject,
        members: [(name: String, type: ObjectKind.MemberType, optional: Bool)]
    ) throws(QMPError) -> JSONObject {
        var converted: [String: JSONValue] = [:]
        // A list is written element by element (`host-nodes.0=0,host-nodes.1=1`).
        var lists: [String: [JSONValue]] = [:]
        var listed: Set<String> = []
        for member in members where member.type == .nodeList {
            for (index, option) in arguments.members.enumerated() where option.key.hasPrefix("\(member.name).") {
                guard let text = option.value.stringValue, let node = UInt64(text) else {
                    throw .parameterExpects("\(member.name)[\(lists[member.name, default: []].count)]", "uint64")
                }
                lists[member.name, default: []].append(.uint(node))
                listed.insert(arguments.members[index].key)
            }
        }
        for member in members {
            guard case .string(let text) = arguments[member.name] else { continue }
            switch member.type {
            case .string, .enumeration:
                break
            case .bool:
                switch text {
                case "on", "yes", "true", "y": converted[member.name] = .bool(true)
                case "off", "no", "false", "n": converted[member.name] = .bool(false)
                default: throw .parameterExpects(member.name, "'on' or 'off'")
                }
            case .int:
                let number = text.hasPrefix("0x") ? Int64(text.dropFirst(2), radix: 16) : Int64(text)
                guard let number else { throw .parameterExpects(member.name, "integer") }
                converted[member.name] = .int(number)
            case .size:
                guard let size = parseSize(text) else { throw .parameterExpects(member.name, "size") }
                converted[member.name] = .int(size)
            case .nodeList:
                throw .invalidParameterType(member.name, expected: "array")
            }
        }
        var result = JSONObject(capacity: arguments.count)
        for member in arguments.members where !listed.contains(member.key) {
            result.append(member.key, converted[member.key] ?? member.value)
        }
        for (name, nodes) in lists.sorted(by: { $0.key < $1.key }) where result[name] == nil {
            result.append(name, .array(nodes))
        }
        return result
    }

    /// QEMU's property setters, run in the order the members came (`setSoFar`: those set before).
    private func setObjectProperty(
        _ name: String,
        _ value: JSONValue,
        kind: ObjectKind,
        setSoFar: JSONObject
    ) throws(QMPError) {
        switch name {
        case "opened", "loaded":
            throw .generic("Property '\(kind.rawValue).\(name)' is not writable")
        case "size", "prealloc-threads":
            if value.int64Value == 0 {
                throw .generic("property '\(name)' of \(kind.rawValue) doesn't take value '0'")
            }
        case "prealloc-context":
            _ = try resolveObjectLink(value.stringValue ?? "", type: "thread-context", property: name)
        case "prealloc" where value.boolValue == true && setSoFar["reserve"]?.boolValue == false,
            "reserve" where value.boolValue == false && setSoFar["prealloc"]?.boolValue == true:
            throw .generic("'prealloc=on' and 'reserve=off' are incompatible")
        case "poll-max-ns", "poll-grow", "poll-shrink", "aio-max-batch", "thread-pool-min", "thread-pool-max":
            if let number = value.int64Value, number < 0 {
                throw .generic("\(name) value must be in range [0, \(Int64.max)]")
            }
        default:
            break
        }
    }

    /// QEMU's `user_creatable_complete`: the object's own rules and its OS side.
    private func complete(_ object: UserObject) throws(QMPError) {
        switch object.kind {
        case .memoryBackendRAM, .memoryBackendFile, .memoryBackendMemfd:
            try allocate(object)
            let policy = object.options["policy"]?.stringValue ?? "default"
            let nodes = object.options["host-nodes"]?.arrayValue ?? []
            if !nodes.isEmpty && policy == "default" {
                throw .generic(
                    "host-nodes must be empty for policy default, or you should explicitly specify a policy other than default"
                )
            }
            if nodes.isEmpty && policy != "default" { throw .generic("host-nodes must be set for policy \(policy)") }
        case .rngRandom:
            let path = object.options["filename"]?.stringValue ?? "/dev/urandom"
            if case .failure(let error) = objects.host.openForReading(path) {
                throw .generic("Could not open '\(path)': \(error.text)")
            }
        case .secret:
            try loadSecret(object)
        case .iothread, .rngBuiltin:
            break
        }
    }

    /// The memory backend's allocation: nothing is allocated, but a file or memfd is really made.
    private func allocate(_ object: UserObject) throws(QMPError) {
        let size = object.size("size")
        switch object.kind {
        case .memoryBackendFile:
            let path = object.options["mem-path"]?.stringValue ?? ""
            let offset = object.size("offset")
            let readonly = object.bool("readonly", default: false)
            let found: UInt64
            let mayCreate = !(readonly && profile.memoryFileReadonlyNeedsFile)
            switch objects.host.openMemoryFile(path, size &+ offset, readonly, mayCreate) {
            case .success(let length): found = length
            case .failure(let error): throw .generic("can't open backing store \(path) for guest RAM: \(error.text)")
            }
            let hex = { (n: UInt64) in "0x" + String(n, radix: 16) }
            if profile.memoryFileHasOffset {
                if found > 0 && found < size &+ offset {
                    throw .generic(
                        "\(object.id) backing store size \(hex(found)) is too small for 'size' option \(hex(size)) plus 'offset' option \(hex(offset))"
                    )
                }
            } else if found > 0 && found < size {
                throw .generic("backing store size \(hex(found)) does not match 'size' option \(hex(size))")
            }
        case .memoryBackendMemfd:
            let result = objects.host.createMemfd(
                size,
                object.bool("hugetlb", default: false),
                object.size("hugetlbsize"),
                object.bool("seal", default: true)
            )
            if case .failure(let error) = result { throw .generic(error.text) }
        default:
            break
        }
    }

    /// QEMU's `qcrypto_secret_load_data` and the decryption's first checks. Encrypted secrets
    /// (`keyid` with a valid key and `iv`) are not simulated. The data is kept for `qom-get` only.
    private func loadSecret(_ object: UserObject) throws(QMPError) {
        let options = object.options
        if let file = options["file"]?.stringValue {
            if options["data"] != nil { throw .generic("'file' and 'data' are mutually exclusive") }
            if case .failure(let error) = objects.host.readFile(file) {
                throw .generic("Unable to read \(file): Failed to open file \u{201C}\(file)\u{201D}: \(error.text)")
            }
        } else if options["data"] == nil {
            throw .generic("Either 'file' or 'data' must be provided")
        }
        if let keyid = options["keyid"]?.stringValue {
            guard let key = objects[keyid] else { throw .generic("No secret with id '\(keyid)'") }
            guard key.kind == .secret else { throw .generic("Object with id '\(keyid)' is not a secret") }
            guard Self.secretLength(key) == 32 else { throw .generic("Key should be 32 bytes in length") }
            guard options["iv"] != nil else { throw .generic("IV is required to decrypt secret") }
            throw .generic("qmp-mockd does not simulate encrypted secrets ('keyid')")
        }
        if options["format"]?.stringValue == "base64", let data = options["data"]?.stringValue,
            !Self.isBase64(data)
        {
            throw .generic("Base64 data contains invalid characters")
        }
    }

    /// The length of a secret's value (decoded from base64 when so formatted); -1 when unknown (a file).
    private static func secretLength(_ secret: UserObject) -> Int {
        guard let data = secret.options["data"]?.stringValue else { return -1 }
        guard secret.options["format"]?.stringValue == "base64" else { return data.utf8.count }
        let characters = data.utf8.filter { $0 != UInt8(ascii: "=") }.count
        return characters * 3 / 4
    }

    /// GLib's base64 alphabet (QEMU's `qbase64_decode` refuses anything else).
    private static func isBase64(_ text: String) -> Bool {
        text.utf8.allSatisfy { c in
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 43 || c == 47 || c == 61
        }
    }

    // MARK: Links

    /// QEMU's `object_resolve_link`: `name` is an object's id (a partial path) or its path
    /// `/objects/ID`; an object of another type, a device, a chardev or a container by that name is
    /// `Invalid parameter type for 'PROP', expected: TYPE`; nothing by that name is `DeviceNotFound`.
    func resolveObjectLink(_ name: String, type: String, property: String) throws(QMPError) -> Int {
        let id = name.hasPrefix("/objects/") ? String(name.dropFirst("/objects/".count)) : name
        if !name.hasPrefix("/") || name.hasPrefix("/objects/"), let index = objects.index(of: id) {
            if objects.objects[index].kind.isSubtype(of: type) { return index }
            throw .invalidParameterType(property, expected: type)
        }
        let exists =
            name.hasPrefix("/")
            ? qomObjectExists(name)
            : peripheral[name] != nil || chardevs.index(of: name) != nil
                || ["machine", "objects", "chardevs", "peripheral", "peripheral-anon", "unattached"].contains(name)
        if exists { throw .invalidParameterType(property, expected: type) }
        throw QMPError(.deviceNotFound, "Device '\(name)' not found")
    }

    /// A device's `link<TYPE>` property (``attachBackend(_:owner:)``): the link is kept by the object's
    /// serial (`ID#SERIAL`), so that it reads `""` once the object is deleted. A memory backend maps
    /// into one device only (`can't use already busy memdev: ID`, pc-dimm's text).
    func attachObject(_ link: BackendLink, type: String) throws(QMPError) -> BackendLink {
        let index = try resolveObjectLink(link.name, type: type, property: link.property)
        let object = objects.objects[index]
        if object.kind.isMemoryBackend && (object.users > 0 || object.isBuiltin) {
            throw .generic("can't use already busy memdev: \(object.id)")
        }
        objects.objects[index].users += 1
        var kept = link
        kept.name = "\(object.id)#\(object.serial)"
        return kept
    }

    /// The device holding `link` is gone.
    func detachObject(_ link: BackendLink) {
        guard let index = Self.linkSerial(link).flatMap({ objects.index(serial: $0) }) else { return }
        objects.objects[index].users -= 1
    }

    /// What `qom-get` reads from a device's link property: the object's path, `""` once deleted.
    func objectLinkPath(_ link: BackendLink) -> String {
        guard let index = Self.linkSerial(link).flatMap({ objects.index(serial: $0) }) else { return "" }
        return objects.objects[index].path
    }

    private static func linkSerial(_ link: BackendLink) -> Int? {
        link.name.split(separator: "#").last.flatMap { Int($0) }
    }

    // MARK: QOM

    /// `qom-list /objects` (nil for another path).
    func qomListObjects(_ path: String) -> JSONValue? {
        let type = JSONValue.object(["name": "type", "type": "string"])
        func entry(_ name: String, _ type: String) -> JSONValue {
            .object(["name": .string(name), "type": .string(type)])
        }
        if path == "/objects" {
            return .array([type] + objects.objects.map { entry($0.id, "child<\($0.kind.rawValue)>") })
        }
        guard path.hasPrefix("/objects/"), let object = objects[String(path.dropFirst("/objects/".count))] else {
            return nil
        }
        return .array([type] + object.kind.qomProperties(profile).map { entry($0.0, $0.1) })
    }

    /// `qom-get` of an object's property (nil: no object at `path`).
    func qomGetObject(_ path: String, property name: String) throws(QMPError) -> JSONValue? {
        if path == "/objects" { return name == "type" ? .string("container") : nil }
        guard path.hasPrefix("/objects/"), let object = objects[String(path.dropFirst("/objects/".count))] else {
            return nil
        }
        if name == "type" { return .string(object.kind.rawValue) }
        guard object.kind.qomProperties(profile).contains(where: { $0.0 == name }) else {
            throw .generic("Property '\(object.kind.rawValue).\(name)' not found")
        }
        if let value = object.options[name] { return value }
        switch name {
        case "share": return .bool(object.kind == .memoryBackendMemfd)
        case "merge", "dump", "reserve", "opened", "loaded": return .bool(true)
        case "prealloc", "readonly", "x-use-canonical-path-for-ramblock-id": return .bool(false)
        case "policy": return .string("default")
        case "host-nodes": return .array([])
        case "prealloc-threads": return .int(1)
        case "poll-max-ns": return .int(32768)
        case "filename": return .string("/dev/urandom")
        case "format": return .string("raw")
        case "prealloc-context": return .string("")
        case "size": return .uint(object.size("size"))
        default: return object.kind == .iothread ? .int(0) : .string("")
        }
    }
}
