import MockServer
import Systemd

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// Which sockets the daemon creates and which it inherits, from `--qmp`, `--control` and socket
/// activation (`LISTEN_FDS`).
///
/// - `--qmp fd:N` / `--control fd:N`: the listening socket already open as descriptor N (libvirt
///   hands QEMU `-chardev socket,fd=N` this way).
/// - `--qmp PATH` / `--control PATH` naming the path an activated socket is bound to: that socket
///   is served instead of creating one, so a unit's `ExecStart=` works with and without its
///   `.socket` unit.
/// - Every other activated socket takes its role from its name (`FileDescriptorName=`): `control` is
///   the control socket; `qmp`, `qmp-2`, ... and unnamed ones (`unknown`, or the `.socket` unit's
///   name, systemd's default) are QMP monitors; other names are refused.
/// - `./qmp.sock` is created only when no `--qmp` was given and nothing was activated.
struct SocketPlan: Equatable {
    var qmpPaths: [String] = []
    var inheritedQMP: [InheritedSocket] = []
    var controlPath: String?
    var inheritedControl: InheritedSocket?
    /// True when `./qmp.sock` was chosen because nothing else was.
    var usesDefaultPath = false

    struct PlanError: Error, CustomStringConvertible {
        let description: String
    }

    /// The default monitor socket when neither `--qmp` nor socket activation gives one.
    static let defaultPath = "./qmp.sock"

    /// `N` of an `fd:N` argument; nil for a path.
    static func descriptor(_ argument: String) -> Int32? {
        guard argument.hasPrefix("fd:") else { return nil }
        return Int32(argument.dropFirst(3)).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Whether `argument` starts like `fd:N` (so a bad number is a usage error, not a path).
    static func looksLikeDescriptor(_ argument: String) -> Bool { argument.hasPrefix("fd:") }

    /// Builds the plan; throws when an inherited descriptor is unusable or roles conflict.
    static func make(
        qmp: [String],
        control: String?,
        activated: [Systemd.ListenFD],
        isListeningUnixStream: (Int32) -> Bool = Systemd.isListeningUnixStreamSocket,
        boundName: (Int32) -> String? = SocketPlan.boundName
    ) throws(PlanError) -> SocketPlan {
        var plan = SocketPlan()
        var claimed = Set<Int32>()
        var activatedNames: [Int32: String] = [:]
        for socket in activated {
            guard isListeningUnixStream(socket.fd) else {
                throw PlanError(
                    description:
                        "socket-activated fd \(socket.fd) (\(socket.name)) is not a listening Unix stream socket"
                )
            }
            if let name = boundName(socket.fd) { activatedNames[socket.fd] = name }
        }

        /// An explicit `fd:N` argument.
        func inherit(_ fd: Int32, option: String) throws(PlanError) -> InheritedSocket {
            guard fcntl(fd, F_GETFD) >= 0 else {
                throw PlanError(description: "\(option) fd:\(fd): no such open file descriptor")
            }
            guard isListeningUnixStream(fd) else {
                throw PlanError(description: "\(option) fd:\(fd): not a listening Unix stream socket")
            }
            guard claimed.insert(fd).inserted else {
                throw PlanError(description: "\(option) fd:\(fd): descriptor \(fd) is already in use")
            }
            return InheritedSocket(fd: fd, name: activatedNames[fd] ?? boundName(fd) ?? "fd:\(fd)")
        }

        /// The activated socket bound to `path`, if any.
        func activatedSocket(at path: String) -> Systemd.ListenFD? {
            let absolute = absolutePath(path)
            return activated.first { socket in
                guard !claimed.contains(socket.fd), let bound = activatedNames[socket.fd] else { return false }
                return bound == path || bound == absolute
            }
        }

        for argument in qmp {
            if let fd = descriptor(argument) {
                plan.inheritedQMP.append(try inherit(fd, option: "--qmp"))
            } else if let socket = activatedSocket(at: argument) {
                guard isQMPName(socket.name) else {
                    throw PlanError(
                        description:
                            "--qmp \(argument): the activated socket bound there (fd \(socket.fd)) "
                            + "is named '\(socket.name)'"
                    )
                }
                claimed.insert(socket.fd)
                plan.inheritedQMP.append(InheritedSocket(fd: socket.fd, name: argument))
            } else {
                plan.qmpPaths.append(argument)
            }
        }
        if let control {
            if let fd = descriptor(control) {
                plan.inheritedControl = try inherit(fd, option: "--control")
            } else if let socket = activatedSocket(at: control) {
                guard socket.name == "control" || isUnnamed(socket.name) else {
                    throw PlanError(
                        description:
                            "--control \(control): the activated socket bound there (fd \(socket.fd)) "
                            + "is named '\(socket.name)'"
                    )
                }
                claimed.insert(socket.fd)
                plan.inheritedControl = InheritedSocket(fd: socket.fd, name: control)
            } else {
                plan.controlPath = control
            }
        }
        for socket in activated where !claimed.contains(socket.fd) {
            let name = activatedNames[socket.fd] ?? "fd:\(socket.fd)"
            if socket.name == "control" {
                guard plan.inheritedControl == nil, plan.controlPath == nil else {
                    throw PlanError(
                        description:
                            "socket-activated fd \(socket.fd) is named 'control' but a control socket is already given"
                    )
                }
                plan.inheritedControl = InheritedSocket(fd: socket.fd, name: name)
            } else if isQMPName(socket.name) {
                plan.inheritedQMP.append(InheritedSocket(fd: socket.fd, name: name))
            } else {
                throw PlanError(
                    description:
                        "socket-activated fd \(socket.fd) has the name '\(socket.name)': "
                        + "use FileDescriptorName=qmp, qmp-2, ... or control"
                )
            }
            claimed.insert(socket.fd)
        }
        if qmp.isEmpty && activated.isEmpty {
            plan.qmpPaths = [defaultPath]
            plan.usesDefaultPath = true
        }
        return plan
    }

    /// Names of activated sockets served as QMP monitors: `qmp`, `qmp-N`, and unnamed ones.
    static func isQMPName(_ name: String) -> Bool {
        name == "qmp" || name.hasPrefix("qmp-") || isUnnamed(name)
    }

    /// No `FileDescriptorName=`: `unknown` (no `LISTEN_FDNAMES`), empty, or the `.socket` unit's
    /// own name, systemd's default.
    static func isUnnamed(_ name: String) -> Bool {
        name == "unknown" || name.isEmpty || name.hasSuffix(".socket")
    }

    /// The name a Unix socket is bound to (`getsockname`): its path, `@name` for an abstract socket,
    /// nil when unnamed or not a Unix socket.
    static func boundName(_ fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        guard let offset = MemoryLayout.offset(of: \sockaddr_un.sun_path), Int(length) > offset else { return nil }
        let pathLength = Int(length) - offset
        let bytes = withUnsafeBytes(of: address.sun_path) { Array($0.prefix(pathLength)) }
        if bytes.first == 0 {
            return "@" + String(decoding: bytes.dropFirst(), as: UTF8.self)
        }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// `path` made absolute against the working directory (without resolving links).
    static func absolutePath(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return cwd.hasSuffix("/") ? cwd + relative : cwd + "/" + relative
    }
}
