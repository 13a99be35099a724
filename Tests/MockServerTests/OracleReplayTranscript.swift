import QMPWire
import SimulatedMachine

#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// A problem with a fixture or its replay set-up (not a mock difference).
struct OracleReplaySetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One line of a golden transcript recorded from real QEMU 7.2 (`../shared/oracle`, "Transcript format").
struct OracleEntry {
    let object: JSONObject

    var seq: Int { Int(object["seq"]?.int64Value ?? -1) }
    /// Seconds since QEMU was spawned.
    var time: Double {
        switch object["t"] {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        default: return 0
        }
    }
    /// `c2s`, `s2c`, `guest`, `note` or `proc`.
    var direction: String { object["dir"]?.stringValue ?? "" }
    func string(_ key: String) -> String? { object[key]?.stringValue }
    func integer(_ key: String) -> UInt64? {
        switch object[key] {
        case .int(let i): return i >= 0 ? UInt64(i) : nil
        case .uint(let u): return u
        default: return nil
        }
    }

    /// The bytes a `c2s` entry sent: `raw` (UTF-8) or `raw_hex`.
    func sentBytes() throws(OracleReplaySetupError) -> [UInt8] {
        if let raw = string("raw") { return Array(raw.utf8) }
        if let hex = string("raw_hex") {
            var bytes: [UInt8] = []
            var high: UInt8?
            for c in hex.utf8 {
                guard let nibble = OracleEntry.nibble(c) else { throw .init("seq \(seq): bad raw_hex") }
                if let h = high {
                    bytes.append(h << 4 | nibble)
                    high = nil
                } else {
                    high = nibble
                }
            }
            return bytes
        }
        throw .init("seq \(seq): c2s entry without raw or raw_hex (raw_repr cannot be replayed)")
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Reads the transcript copies in `Fixtures/` with Glibc and our own JSON parser.
enum OracleFixtures {
    /// `Tests/MockServerTests/Fixtures`, next to this file.
    static let directory: String = {
        let file = "\(#filePath)"
        guard let slash = file.lastIndex(of: "/") else { return "Fixtures" }
        return String(file[..<slash]) + "/Fixtures"
    }()

    static func readFile(_ path: String) throws(OracleReplaySetupError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .init("cannot open \(path) (errno \(errno))") }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .init("cannot read \(path) (errno \(errno))")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
    }

    /// The entries of `Fixtures/NAME.jsonl`, in file order.
    static func load(_ name: String) throws(OracleReplaySetupError) -> [OracleEntry] {
        let bytes = try readFile("\(directory)/\(name).jsonl")
        var parser = JSONStreamParser()
        var entries: [OracleEntry] = []
        var position = 0
        var failure: OracleReplaySetupError?
        bytes.withUnsafeBytes { buffer in
            while let result = parser.next(from: buffer, position: &position) {
                switch result {
                case .success(.object(let object)): entries.append(OracleEntry(object: object))
                case .success(let other):
                    failure = .init("\(name): a line is not a JSON object: \(other.jsonText.prefix(80))")
                    return
                case .failure(let error):
                    failure = .init("\(name): JSON error after \(entries.count) entries: \(error.desc)")
                    return
                }
            }
        }
        if let failure { throw failure }
        if parser.isMidMessage { throw .init("\(name): truncated last line") }
        return entries
    }
}

/// The machine QEMU was started as, rebuilt from the transcript's `proc spawn` argv.
struct OracleLaunch {
    var machineType: MachineType = .q35
    var startPaused = false
    var devices: [DeviceSpec] = []
    /// Options that do not change the simulated machine (harness plumbing, firmware).
    var ignoredOptions: [String] = []

    /// The `-global` switches that put QEMU in native hotplug mode, the only mode the mock models.
    static let nativeModeGlobals: [MachineType: String] = [
        .q35: "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
        .pc: "PIIX4_PM.acpi-pci-hotplug-with-bridge-support=off",
    ]
    /// Options with a value that only wire up the harness (sockets, accelerator, display, firmware).
    static let plumbingWithValue: Set<String> = ["-accel", "-display", "-qmp", "-qtest", "-qtest-log", "-bios"]
    static let plumbingFlags: Set<String> = ["-nodefaults"]

    /// Parses argv generically: `-machine TYPE`, `-S`, `-device driver,key=value,...`, `-global`.
    static func parse(_ argv: [String]) throws(OracleReplaySetupError) -> OracleLaunch {
        var launch = OracleLaunch()
        var globals: [String] = []
        var i = 1
        func value() throws(OracleReplaySetupError) -> String {
            guard i + 1 < argv.count else { throw .init("option \(argv[i]) without a value") }
            i += 1
            return argv[i]
        }
        while i < argv.count {
            let option = argv[i]
            switch option {
            case "-machine", "-M":
                let text = try value()
                let type = String(text.split(separator: ",", omittingEmptySubsequences: false)[0])
                guard let machineType = MachineType(rawValue: type), !text.contains(",") else {
                    throw .init("-machine \(text): the mock models only plain q35 and pc")
                }
                launch.machineType = machineType
            case "-S":
                launch.startPaused = true
            case "-device":
                launch.devices.append(try deviceSpec(try value()))
            case "-global":
                globals.append(try value())
            case _ where plumbingWithValue.contains(option):
                launch.ignoredOptions.append("\(option) \(try value())")
            case _ where plumbingFlags.contains(option):
                launch.ignoredOptions.append(option)
            default:
                throw .init("unsupported QEMU option \(option)")
            }
            i += 1
        }
        let native = nativeModeGlobals[launch.machineType] ?? ""
        for global in globals where global != native {
            throw .init("-global \(global): the mock does not model it")
        }
        if !globals.contains(native) {
            throw .init("QEMU ran in ACPI hotplug mode (no -global \(native)); the mock models native mode only")
        }
        return launch
    }

    /// `driver,key=value,...` as QemuOpts hands it to qdev: every value a string.
    static func deviceSpec(_ text: String) throws(OracleReplaySetupError) -> DeviceSpec {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let driver = parts.first, !driver.isEmpty, !driver.contains("=") else {
            throw .init("-device \(text): no driver")
        }
        var spec = DeviceSpec(driver: driver)
        for part in parts.dropFirst() {
            guard let eq = part.firstIndex(of: "=") else { throw .init("-device \(text): '\(part)' has no value") }
            let key = String(part[..<eq])
            let value = String(part[part.index(after: eq)...])
            switch key {
            case "id": spec.id = value
            case "bus": spec.bus = value
            default: spec.properties.append(key, .string(value))
            }
        }
        return spec
    }
}
