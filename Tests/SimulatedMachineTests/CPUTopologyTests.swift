import QMPWire
import SimulatedMachine
import Testing

/// `-smp` as QEMU reads it: omitted values, APIC ids, refusals with QEMU's texts (recorded from 7.2.22 and
/// 10.0.2 with bad `-smp` values).
@Suite struct CPUTopologyTests {
    static func topology(
        _ smp: SMPOptions,
        _ version: String = "7.2.0",
        machine: MachineType = .q35
    ) throws(QMPError)
        -> CPUTopology
    {
        guard let profile = QEMUProfile(version, package: "test") else { throw .generic("profile") }
        return try CPUTopology(smp: smp, machineType: machine, profile: profile)
    }

    static func refusal(_ smp: SMPOptions, _ version: String = "7.2.0", machine: MachineType = .q35) -> String? {
        do throws(QMPError) {
            _ = try topology(smp, version, machine: machine)
            return nil
        } catch {
            return error.desc
        }
    }

    @Test func coresArePreferred() throws {
        let t = try Self.topology(SMPOptions(cpus: 1, maxcpus: 4))
        #expect(t.sockets == 1 && t.cores == 4 && t.threads == 1 && t.cpus == 1 && t.maxcpus == 4)
        #expect(t.possibleAPICIDs == [0, 1, 2, 3])
        // Cores given: sockets are computed.
        let s = try Self.topology(SMPOptions(cpus: 6, cores: 2))
        #expect(s.sockets == 3 && s.cores == 2 && s.threads == 1)
        #expect(
            Self.refusal(SMPOptions(cpus: 1, maxcpus: 5, cores: 2))
                == "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (2) * threads (1) != maxcpus (5)"
        )
    }

    @Test func apicIDsUsePowerOfTwoFields() throws {
        let t = try Self.topology(SMPOptions(cpus: 3, maxcpus: 24, sockets: 2, dies: 2, cores: 3, threads: 2))
        // thread 1 bit, core 2 bits, die 1 bit: index 6 (socket 0, die 1, core 0, thread 0) is APIC id 8.
        #expect(t.possibleAPICIDs[0...7] == [0, 1, 2, 3, 4, 5, 8, 9])
        #expect(t.ids(ofAPICID: 9) == CPUTopologyIDs(socket: 0, die: 1, core: 0, thread: 1))
        #expect(t.apicID(of: CPUTopologyIDs(socket: 1, die: 0, core: 2, thread: 1)) == 21)
    }

    @Test func refusalsCarryQEMUsTexts() {
        #expect(
            Self.refusal(SMPOptions(cpus: 4, maxcpus: 2))
                == "Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (2) * threads (1) == maxcpus (2) < smp_cpus (4)"
        )
        #expect(
            Self.refusal(SMPOptions(maxcpus: 3, sockets: 2, cores: 2))
                == "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (2) * threads (0) != maxcpus (3)"
        )
        #expect(
            Self.refusal(SMPOptions(cpus: 4, threads: 3), "10.0.0")
                == "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * dies (1) * modules (1) * cores (1) * threads (3) != maxcpus (4)"
        )
        #expect(
            Self.refusal(SMPOptions(cpus: 300))
                == "Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-q35-7.2' is 288"
        )
        #expect(
            Self.refusal(SMPOptions(cpus: 1, maxcpus: 300), "10.0.0", machine: .pc)
                == "Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-10.0' is 255"
        )
        // 7.2 only warns about an explicit 0 (and treats it as omitted); 10.0 refuses.
        #expect(Self.refusal(SMPOptions(cpus: 0)) == nil)
        #expect(
            Self.refusal(SMPOptions(cpus: 0), "10.0.0")
                == "Invalid CPU topology: CPU topology parameters must be greater than zero"
        )
    }
}
