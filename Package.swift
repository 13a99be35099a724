// swift-tools-version: 6.1
import PackageDescription

/// Upcoming features adopted from day one (as hummingbird does), plus Swift 6 strict concurrency.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A directory holding only static libraries (links the Makefile's `release` target makes): searched
/// first, it makes release executables link them instead of loading their shared objects at every
/// start: `libstdc++.a`, the C++ runtime the Swift runtime needs (exec to `READY=1` 3.4 -> 2.8 ms,
/// measured), and `libyaml.a` (CYAML). Absent, the link falls back to the shared libraries.
let staticLibraries = Context.packageDirectory + "/.build/static-libs"

/// Release linking of the executables started often (the daemon per test, the CLI per fixture
/// step): position-dependent, so that the dynamic loader has no ~27,000 relative relocations to
/// apply at every start (-0.3 ms, measured), and with the static libraries above.
let quickStartLinking: [LinkerSetting] = [
    .unsafeFlags(["-Xclang-linker", "-no-pie", "-L", staticLibraries], .when(configuration: .release))
]

let package = Package(
    name: "qmp-mock",
    products: [
        .executable(name: "qmp-mockd", targets: ["qmp-mockd"]),
        .executable(name: "qmp-mockctl", targets: ["qmp-mockctl"]),
        .executable(name: "qmp-bench", targets: ["qmp-bench"]),
        .library(name: "QMPWire", targets: ["QMPWire"]),
        .library(name: "MockServer", targets: ["MockServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // 1. Wire protocol: JSON value, QEMU-dialect streaming parser, writer, QMP messages. No I/O.
        .target(name: "QMPWire", swiftSettings: strictSettings),
        // 5. libsystemd's sd-daemon API (its header from libsystemd-dev; the library loaded with dlopen on
        //    first use, see Sources/CSystemd/include/CSystemd.h), and a thin Swift wrapper.
        .target(name: "CSystemd"),
        .target(name: "Systemd", dependencies: ["CSystemd"], swiftSettings: strictSettings),
        // Linux headers Swift's Glibc module leaves out (epoll).
        .target(name: "CLinux"),
        // 2. The simulated machine: pure and deterministic.
        .target(name: "SimulatedMachine", dependencies: ["QMPWire"], swiftSettings: strictSettings),
        // 2b. libyaml (its header and library from libyaml-dev; linked, statically in release builds), and
        //     the configuration file: YAML -> YAMLNode (anchors, aliases, merge keys, tags) -> MachineConfiguration.
        .target(name: "CYAML", linkerSettings: [.linkedLibrary("yaml")]),
        .target(
            name: "YAMLConfig",
            dependencies: ["CYAML", "SimulatedMachine", "QMPWire"],
            swiftSettings: strictSettings
        ),
        // 2c. QEMU's command line (`qemu-system-x86_64 ...`) translated into a machine configuration and
        //     process settings. Pure: no I/O.
        .target(
            name: "QEMUCommandLine",
            dependencies: ["QMPWire", "SimulatedMachine"],
            swiftSettings: strictSettings
        ),
        // 3. The simulated guest: OS hotplug drivers and personas, acting only through the machine's registers.
        .target(
            name: "GuestSim",
            dependencies: ["SimulatedMachine", "YAMLConfig", "QMPWire"],
            swiftSettings: strictSettings
        ),
        // 4. Dispatch event loop, sessions, command routing, event fan-out, transcript.
        .target(
            name: "MockServer",
            dependencies: [
                "QMPWire", "SimulatedMachine", "GuestSim", "CLinux",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // 6. The daemon: argument parsing and wiring only.
        .executableTarget(
            name: "qmp-mockd",
            dependencies: [
                // No ArgumentParser here: it costs start-up time and memory (DaemonOptions).
                "MockServer", "Systemd", "QMPWire", "SimulatedMachine", "YAMLConfig", "GuestSim", "QEMUCommandLine",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: quickStartLinking
        ),
        // What `qmp-mockctl watch` shows, free of I/O: machine-state read into slots, the plain line
        // format and its diffs, the terminal frame.
        .target(name: "SlotWatch", dependencies: ["QMPWire"], swiftSettings: strictSettings),
        // The control-plane CLI for shell fixtures.
        .executableTarget(
            name: "qmp-mockctl",
            dependencies: [
                "QMPWire", "SlotWatch", "CLinux", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: quickStartLinking
        ),
        // Benchmarks any QMP socket (qmp-mockd or real QEMU); `make bench`. Glibc only, no Foundation.
        .executableTarget(
            name: "qmp-bench",
            dependencies: ["QMPWire", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "QMPWireTests", dependencies: ["QMPWire"], swiftSettings: strictSettings),
        .testTarget(name: "SlotWatchTests", dependencies: ["SlotWatch", "QMPWire"], swiftSettings: strictSettings),
        .testTarget(
            name: "SimulatedMachineTests",
            dependencies: ["SimulatedMachine", "YAMLConfig", "QMPWire"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "QEMUCommandLineTests",
            dependencies: ["QEMUCommandLine", "SimulatedMachine", "YAMLConfig", "QMPWire"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "YAMLConfigTests",
            dependencies: ["YAMLConfig", "SimulatedMachine", "QMPWire"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "GuestSimTests",
            dependencies: ["GuestSim", "SimulatedMachine", "YAMLConfig", "QMPWire"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "MockServerTests",
            dependencies: ["MockServer", "QMPWire", "SimulatedMachine", "GuestSim"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, declared only for `FUZZ=1 swift build ... -sanitize=fuzzer` (make fuzz): their
// entry point replaces the `main` SwiftPM synthesises for ordinary executables.
if Context.environment["FUZZ"] != nil {
    package.targets += [
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "fuzz-wire", dependencies: ["FuzzSupport", "QMPWire"], path: "Fuzz/fuzz-wire"),
        .executableTarget(
            name: "fuzz-session",
            dependencies: [
                "FuzzSupport", "QMPWire", "SimulatedMachine", "MockServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/fuzz-session"
        ),
        .executableTarget(
            name: "fuzz-machine",
            dependencies: ["FuzzSupport", "QMPWire", "SimulatedMachine", "GuestSim"],
            path: "Fuzz/fuzz-machine"
        ),
    ]
    package.products += ["fuzz-wire", "fuzz-session", "fuzz-machine"].map { .executable(name: $0, targets: [$0]) }
}
