/// How long the simulated guest takes for each step of its hotplug drivers, in virtual nanoseconds.
///
/// The defaults are Linux's: pciehp and shpchp wait 5 s after an attention-button press before they act
/// (the window in which a second press cancels), pciehp waits about 100 ms for the link to train after
/// powering a slot on and 1 s after powering it off, and shpchp waits 1 s after enabling a slot before it
/// configures the card. Every timer runs on the machine's virtual clock, so a paused VM freezes the guest
/// and a test can play minutes of guest time without waiting.
///
/// Rehearses slow guests (P15/P16 in `users.md`: Kata's 3 s wait too short under load, 7 s removal timeouts
/// on slow arm64 guests) when scaled with ``scaled(by:)`` or through ``GuestPersona/slow(factor:)``.
public struct GuestLatencies: Sendable, Equatable {
    /// From the controller's interrupt to the driver's interrupt handler (0: right after the device model
    /// returns, i.e. right after the QMP reply).
    public var interrupt: Int64
    /// The attention-button abort window: pciehp and shpchp blink the power indicator this long before they
    /// power a slot on or off (`5 * HZ` in Linux).
    public var buttonWindow: Int64
    /// pciehp: from powering a slot on to the link being up and the card configured (Linux waits for Data Link
    /// Layer Link Active, then 100 ms).
    public var linkUp: Int64
    /// pciehp: from powering a slot off to turning its power indicator off ("wait at least 1 second").
    public var powerOffSettle: Int64
    /// shpchp: from enabling a slot (power indicator blinking) to configuring the card and turning the power
    /// indicator on (`msleep(1000)` in `board_added`).
    public var shpcEnableSettle: Int64
    /// ``GuestPersona/cancelOnSecondPress``: how long that guest waits for a second press before it removes
    /// the card. Longer than QEMU's 5 s pending-unplug guard, so that a retried `device_del` reaches it.
    public var secondPressWindow: Int64
    /// ``GuestPersona/script(_:)``: how often a ``GuestScriptStep/waitFor(_:)`` step re-reads the registers.
    public var scriptPoll: Int64
    /// ACPI PCI hot-plug (acpiphp): from the Eject Request notification to the eject write (`_EJ0`), the
    /// time Linux takes to unbind the drivers of the slot's functions (`acpi-hotplug.md` §9: no deliberate
    /// wait, an estimated 10-100 ms for simple devices; 20 ms by default). Notifications are handled one
    /// at a time, so several slots are ejected this far apart.
    public var acpiEject: Int64
    /// ACPI processor driver: from a CPU's Device Check to `_OST(1, 0)` (`_STA`, the processor attached;
    /// an estimate, `acpi-hotplug.md` §9).
    public var cpuAttach: Int64 = 1 * millisecond
    /// ACPI processor driver: from a CPU's Eject Request (`_OST(3, 0x84)`) to `_EJ0`, the time Linux
    /// takes to offline the CPU (an estimate within §9's 5–50 ms).
    public var cpuOffline: Int64 = 20 * millisecond
    /// ACPI memory hot-plug: from the Device Check of a hot-added DIMM to its `_OST(1, 0)` (`_STA`, `_CRS`,
    /// `add_memory` and onlining). An estimate (`acpi-hotplug.md` §9): 20 ms.
    public var memoryAdd: Int64 = 20 * millisecond
    /// ACPI memory hot-plug: from the Eject Request's `_OST(3, 0x84)` to the eject (offlining the DIMM's
    /// memory blocks, page migration), or to the refusal. An estimate (§9: milliseconds to seconds): 200 ms.
    public var memoryOffline: Int64 = 200 * millisecond
    /// The power button: from the PWRBTN fixed event to the soft-off write (ACPICA's notify,
    /// systemd-logind's poweroff, the kernel's `acpi_enter_sleep_state(S5)`). A minimal guest's: 1 s.
    public var shutdown: Int64 = 1000 * millisecond

    /// One millisecond in nanoseconds.
    public static let millisecond: Int64 = 1_000_000

    /// Latencies, Linux's by default.
    public init(
        interrupt: Int64 = 0,
        buttonWindow: Int64 = 5_000 * millisecond,
        linkUp: Int64 = 100 * millisecond,
        powerOffSettle: Int64 = 1_000 * millisecond,
        shpcEnableSettle: Int64 = 1_000 * millisecond,
        secondPressWindow: Int64 = 10_000 * millisecond,
        scriptPoll: Int64 = 10 * millisecond,
        acpiEject: Int64 = 20 * millisecond
    ) {
        self.interrupt = interrupt
        self.buttonWindow = buttonWindow
        self.linkUp = linkUp
        self.powerOffSettle = powerOffSettle
        self.shpcEnableSettle = shpcEnableSettle
        self.secondPressWindow = secondPressWindow
        self.scriptPoll = scriptPoll
        self.acpiEject = acpiEject
    }

    /// Every latency multiplied by `factor` (rounded to the nanosecond), except ``scriptPoll``, which is how
    /// often a script looks, not how long the guest takes.
    /// - Parameter factor: a positive number; 4 makes a guest four times slower.
    public func scaled(by factor: Double) -> GuestLatencies {
        func scale(_ value: Int64) -> Int64 {
            let result = (Double(value) * factor).rounded()
            guard result.isFinite, result >= 0 else { return 0 }
            return result >= Double(Int64.max) ? Int64.max : Int64(result)
        }
        var copy = self
        copy.interrupt = scale(interrupt)
        copy.buttonWindow = scale(buttonWindow)
        copy.linkUp = scale(linkUp)
        copy.powerOffSettle = scale(powerOffSettle)
        copy.shpcEnableSettle = scale(shpcEnableSettle)
        copy.secondPressWindow = scale(secondPressWindow)
        copy.acpiEject = scale(acpiEject)
        copy.cpuAttach = scale(cpuAttach)
        copy.cpuOffline = scale(cpuOffline)
        copy.memoryAdd = scale(memoryAdd)
        copy.memoryOffline = scale(memoryOffline)
        copy.shutdown = scale(shutdown)
        return copy
    }
}
