import QMPWire

/// The x86 CPU models QEMU knows (`-cpu help`), whose device types are `NAME-x86_64-cpu`. Only the
/// machine's CPU type (`qemu64-x86_64-cpu`) can be hot-plugged; the others exist so that `device_add`
/// of one gets QEMU's `Invalid CPU type` refusal rather than an unknown-model error (`acpi-hotplug.md`
/// §5.5). Lists recorded from QEMU 7.2.22 and 10.0.2; 8.2 is given 7.2's list.
public enum X86CPUModels {
    /// The machine's CPU type (QEMU's default `-cpu qemu64`).
    static let machineType = "qemu64-x86_64-cpu"
    /// The suffix of an x86 CPU device type.
    static let suffix = "-x86_64-cpu"

    /// Whether `-cpu NAME` names a model QEMU `MAJOR.MINOR` (`release`, as `"7.2"`) knows.
    public static func isModel(_ name: String, release: String) -> Bool {
        isModel(name, since10: (Int(release.prefix { $0 != "." }) ?? 0) >= 10)
    }

    /// Whether `driver` is an x86 CPU device type under `profile`.
    static func isCPUType(_ driver: String, profile: QEMUProfile) -> Bool {
        guard driver.hasSuffix(suffix) else { return false }
        return isModel(String(driver.dropLast(suffix.count)), since10: profile.version.isAtLeast(10, 0))
    }

    /// Whether `name` is a model of 7.2's list, or of 10.0's additions when `since10`.
    private static func isModel(_ name: String, since10: Bool) -> Bool {
        qemu72.contains(name) || (since10 && qemu10Additions.contains(name))
    }

    /// QEMU 7.2.22's models (aliases included: each has a type).
    static let qemu72: Set<String> = [
        "486", "486-v1", "Broadwell", "Broadwell-IBRS", "Broadwell-noTSX", "Broadwell-noTSX-IBRS", "Broadwell-v1",
        "Broadwell-v2", "Broadwell-v3", "Broadwell-v4", "Cascadelake-Server", "Cascadelake-Server-noTSX",
        "Cascadelake-Server-v1", "Cascadelake-Server-v2", "Cascadelake-Server-v3", "Cascadelake-Server-v4",
        "Cascadelake-Server-v5", "Conroe", "Conroe-v1", "Cooperlake", "Cooperlake-v1", "Cooperlake-v2", "Denverton",
        "Denverton-v1", "Denverton-v2", "Denverton-v3", "Dhyana", "Dhyana-v1", "Dhyana-v2", "EPYC", "EPYC-IBPB",
        "EPYC-Milan", "EPYC-Milan-v1", "EPYC-Rome", "EPYC-Rome-v1", "EPYC-Rome-v2", "EPYC-v1", "EPYC-v2", "EPYC-v3",
        "Haswell", "Haswell-IBRS", "Haswell-noTSX", "Haswell-noTSX-IBRS", "Haswell-v1", "Haswell-v2", "Haswell-v3",
        "Haswell-v4", "Icelake-Server", "Icelake-Server-noTSX", "Icelake-Server-v1", "Icelake-Server-v2",
        "Icelake-Server-v3", "Icelake-Server-v4", "Icelake-Server-v5", "Icelake-Server-v6", "IvyBridge",
        "IvyBridge-IBRS", "IvyBridge-v1", "IvyBridge-v2", "KnightsMill", "KnightsMill-v1", "Nehalem", "Nehalem-IBRS",
        "Nehalem-v1", "Nehalem-v2", "Opteron_G1", "Opteron_G1-v1", "Opteron_G2", "Opteron_G2-v1", "Opteron_G3",
        "Opteron_G3-v1", "Opteron_G4", "Opteron_G4-v1", "Opteron_G5", "Opteron_G5-v1", "Penryn", "Penryn-v1",
        "SandyBridge", "SandyBridge-IBRS", "SandyBridge-v1", "SandyBridge-v2", "Skylake-Client",
        "Skylake-Client-IBRS", "Skylake-Client-noTSX-IBRS", "Skylake-Client-v1", "Skylake-Client-v2",
        "Skylake-Client-v3", "Skylake-Client-v4", "Skylake-Server", "Skylake-Server-IBRS",
        "Skylake-Server-noTSX-IBRS", "Skylake-Server-v1", "Skylake-Server-v2", "Skylake-Server-v3",
        "Skylake-Server-v4", "Skylake-Server-v5", "Snowridge", "Snowridge-v1", "Snowridge-v2", "Snowridge-v3",
        "Snowridge-v4", "Westmere", "Westmere-IBRS", "Westmere-v1", "Westmere-v2", "athlon", "athlon-v1", "core2duo",
        "core2duo-v1", "coreduo", "coreduo-v1", "kvm32", "kvm32-v1", "kvm64", "kvm64-v1", "n270", "n270-v1",
        "pentium", "pentium-v1", "pentium2", "pentium2-v1", "pentium3", "pentium3-v1", "phenom", "phenom-v1",
        "qemu32", "qemu32-v1", "qemu64", "qemu64-v1", "base", "host", "max",
    ]

    /// Models QEMU 10.0.2 adds to 7.2's.
    static let qemu10Additions: Set<String> = [
        "ClearwaterForest", "ClearwaterForest-v1", "EPYC-Genoa", "EPYC-Genoa-v1", "EPYC-Milan-v2", "EPYC-Rome-v3",
        "EPYC-Rome-v4", "EPYC-v4", "GraniteRapids", "GraniteRapids-v1", "GraniteRapids-v2", "Icelake-Server-v7",
        "SapphireRapids", "SapphireRapids-v1", "SapphireRapids-v2", "SapphireRapids-v3", "SierraForest",
        "SierraForest-v1", "SierraForest-v2", "YongFeng", "YongFeng-v1", "YongFeng-v2",
    ]
}
