import SimulatedMachine

/// The Linux guest's handling of CPU Notifies (`drivers/acpi/scan.c` `acpi_device_hotplug`,
/// `drivers/acpi/acpi_processor.c`): one Notify at a time, in order, as on the ordered
/// `kacpi_hotplug_wq` (`acpi-hotplug.md` §9).
///
/// - Device Check: after ``GuestLatencies/cpuAttach``, `_STA`, then `_OST(1, 0)` when the CPU is there
///   (the processor is attached; onlining it is user space's business and touches no register), or
///   `_OST(1, 1)` (non-specific failure) when it is gone.
/// - Eject Request: `_OST(3, 0x84)` at once; after ``GuestLatencies/cpuOffline`` (the CPU offlined)
///   `_EJ0`, `_STA`, `_OST(3, 0)`. A guest that cannot offline the CPU (``refusesOffline``) reports
///   `_OST(3, 0x82)` instead and does not eject.
final class ACPIProcessorDriver {
    /// The two Notify values CSCN sends.
    enum Notify {
        case deviceCheck
        case ejectRequest
    }

    /// `_OST` source events and status codes (`include/linux/acpi.h`).
    static let deviceCheckEvent: UInt32 = 1
    static let ejectRequestEvent: UInt32 = 3
    static let success: UInt32 = 0
    static let failure: UInt32 = 1
    static let busy: UInt32 = 0x82
    static let ejectInProgress: UInt32 = 0x84

    unowned let acpi: ACPIGuestDriver
    /// Notifies not handled yet, oldest first.
    private var queue: [(cpu: Int, notify: Notify)] = []
    /// A Notify is being handled (its timer is armed).
    private var busy = false
    /// The guest cannot offline CPUs (a CPU pinned by a workload): removals are refused with 0x82
    /// (``GuestConfiguration/refusesCPUOffline``).
    var refusesOffline: Bool { acpi.os.configuration.refusesCPUOffline }

    init(acpi: ACPIGuestDriver) {
        self.acpi = acpi
    }

    /// `other` in the same state, for `acpi` (its ACPI side's copy).
    init(copying other: ACPIProcessorDriver, acpi: ACPIGuestDriver) {
        self.acpi = acpi
        queue = other.queue
        busy = other.busy
    }

    /// Queues a Notify for CPU `cpu`.
    /// The Notify is handled on the workqueue, after the GPE method has returned.
    func notify(_ cpu: Int, _ notify: Notify) {
        queue.append((cpu, notify))
        guard !busy else { return }
        busy = true
        acpi.timers.after(0) { [unowned self] in runNext() }
    }

    /// Drops every queued Notify (guest reset; its timers are cancelled by the caller).
    func reset() {
        queue.removeAll()
        busy = false
    }

    private func runNext() {
        guard !queue.isEmpty else {
            busy = false
            return
        }
        let (cpu, notify) = queue.removeFirst()
        let latencies = acpi.os.latencies(for: acpi.persona)
        switch notify {
        case .deviceCheck:
            acpi.timers.after(latencies.cpuAttach) { [unowned self] in
                let present = acpi.cpuStatus(cpu)
                acpi.cpuOST(cpu, event: Self.deviceCheckEvent, status: present ? Self.success : Self.failure)
                runNext()
            }
        case .ejectRequest:
            acpi.cpuOST(cpu, event: Self.ejectRequestEvent, status: Self.ejectInProgress)
            acpi.timers.after(latencies.cpuOffline) { [unowned self] in
                if refusesOffline {
                    acpi.cpuOST(cpu, event: Self.ejectRequestEvent, status: Self.busy)
                } else {
                    acpi.ejectCPU(cpu)
                    _ = acpi.cpuStatus(cpu)
                    acpi.cpuOST(cpu, event: Self.ejectRequestEvent, status: Self.success)
                }
                runNext()
            }
        }
    }
}
