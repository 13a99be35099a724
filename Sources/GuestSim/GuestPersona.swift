/// How the simulated guest OS treats a hotplug controller (a PCIe port, an SHPC bridge, or one SHPC slot):
/// the behaviours management stacks must survive, each reproducible on the virtual clock.
///
/// `device_add` returning `{}` does not mean the guest took the device, and `device_del` returning `{}` does
/// not mean it will ever go away (`users.md` §4). Each persona rehearses one way this goes wrong:
///
/// - ``linux``: the reference. Linux pciehp / shpchp as in `hotplug-semantics.md` §2.9 and §3.7: a hot-added
///   card is powered on at once (PCIe, `X_DEVICE_ON` after the link comes up) or after the 5 s button window
///   (SHPC); `device_del` blinks the power indicator for 5 s, then powers the slot off (`DEVICE_DELETED`).
///   Rehearses stacks that fire `device_del` before `X_DEVICE_ON` (QEMU answers `guest is busy (power
///   indicator blinking)`, P4) and stacks that give up after 5 s (libvirt, P1).
/// - ``neverAck``: a guest without a working hotplug driver (hung, not loaded, or a driver that never
///   acknowledges): no `X_DEVICE_ON`, no `DEVICE_DELETED`; clients must time out (P6, P8).
/// - ``slow(factor:)``: Linux with every latency multiplied (P15, P16).
/// - ``booting(untilNanoseconds:scanTreatsNewDeviceAsRemoval:)``: a guest still booting, which ignores hotplug
///   until its driver loads (P3, P7), optionally with the boot-scan race that removes a fresh device (P5).
/// - ``cancelOnSecondPress``: a guest that treats a retried `device_del` as "cancel" (Nova's interrupted
///   detach, P2).
/// - ``manual``: no guest at all; the test drives the registers itself (control plane `guest-write`).
/// - ``script(_:)``: a scripted guest, for register sequences Linux does not produce (slot registers, or the
///   ACPI side's I/O ports and configuration space).
///
/// Personas are chosen per machine, per controller or per SHPC slot (``GuestConfiguration``) and can be
/// switched while the VM runs (``GuestOS/setPersona(_:controller:slot:)``).
public enum GuestPersona: Sendable, Equatable, CustomStringConvertible {
    /// Linux pciehp / shpchp with ``GuestLatencies`` as configured. A second attention-button press within
    /// the blinking window cancels the action, as in Linux, but QEMU normally keeps that press from reaching
    /// the guest (a repeated `device_del` fails while the power indicator blinks, and for PCIe also for 5 s
    /// after the first); a press that arrives while the slot is being powered on or off is ignored.
    case linux
    /// Ignores every notification: no register is read or written, so latched events, indicators and power
    /// stay as the machine left them (a hot-added card stays unpowered; `device_del` only latches the
    /// attention button, and a repeated `device_del` after QEMU's 5 s guard latches it again). A driver
    /// sequence under way when the persona is set is abandoned where it stands. (One exception: an SHPC slot
    /// that a driver had unmasked gets its event interrupts masked again, so that its latched events do not
    /// hold the interrupt line all slots of the bridge share.)
    case neverAck
    /// Linux with every latency (``GuestLatencies/scaled(by:)``) multiplied by `factor` (> 0): with 4, a
    /// PCIe hot-add takes 400 ms and a PCIe removal 24 s.
    case slow(factor: Double)
    /// Ignores hotplug until the virtual clock reaches `untilNanoseconds` (counted from the machine's start):
    /// its hotplug drivers are not loaded yet, so events stay latched. Then the drivers load as Linux's do:
    /// - PCIe: the driver takes a slot as "on" if the boot scan found its card (present and powered), enables
    ///   notifications (events latched during boot raise an interrupt then) and brings up a present card the
    ///   scan did not find: a device added while booting is powered on after the boot (`X_DEVICE_ON`).
    /// - SHPC: shpchp clears the latched events when it loads and does not look at presence: a device added
    ///   while booting stays unpowered (no `X_DEVICE_ON`; the client must remove and re-add it).
    ///
    /// With `scanTreatsNewDeviceAsRemoval`, the boot scan takes a present but unpowered card for a configured
    /// one, and the latched button press for a removal request (the Kata race, P5): the device is powered off
    /// and removed after the boot (`DEVICE_DELETED`, no `X_DEVICE_ON`): for PCIe one power-off settle after the
    /// boot when its presence change is still latched, else after the button window and the power-off settle;
    /// for SHPC after the button window.
    case booting(untilNanoseconds: Int64, scanTreatsNewDeviceAsRemoval: Bool)
    /// A guest that acknowledges a removal request without blinking the power indicator (it blinks the
    /// attention indicator instead) and waits ``GuestLatencies/secondPressWindow`` (10 s, longer than QEMU's
    /// 5 s pending-unplug guard) before it powers the slot off as Linux does. QEMU therefore lets a retried
    /// `device_del` through during that window, and the guest takes the second press as "cancel": the device
    /// stays (attention indicator off again) and no `DEVICE_DELETED` comes. Differences from ``linux``: Linux
    /// blinks the power indicator, so QEMU refuses the retry (`guest is busy`), and Linux's window (5 s) ends
    /// when QEMU's guard does; both ignore a press while the slot is being powered off. Hot-add is as Linux's.
    case cancelOnSecondPress
    /// No automatic action at all, not even the driver's initialisation: only explicit register writes
    /// (control plane `guest-write`) change anything. Acts on the registers like ``neverAck``; the difference
    /// is the intent (a test playing the guest itself) and the reported state; the SHPC exception of
    /// ``neverAck`` applies too.
    case manual
    /// Runs the steps once, in order, starting when the first hotplug notification arrives for its
    /// controller (or SHPC slot) — or at once if events are already latched when the persona takes over.
    /// The guest only enables notifications (PCIe Slot Control interrupt enables; SHPC slot unmask) so that
    /// the notification can arrive; every other write is a step. Setting the persona again re-arms it.
    ///
    /// Given for the ACPI side (the controller named `acpi`), the steps are I/O-port and configuration-space
    /// accesses (``GuestScriptStep/side``) and start once the VM runs, with no boot and no GPE handler of the
    /// guest's own; a machine-wide script leaves the ACPI side as ``manual``.
    case script([GuestScriptStep])

    /// The configuration and control-plane spellings, in this order.
    public static let names = ["linux", "never-ack", "slow", "booting", "cancel-on-second-press", "manual", "script"]

    /// The persona's configuration spelling (`never-ack`, `cancel-on-second-press`, ...).
    public var name: String {
        switch self {
        case .linux: "linux"
        case .neverAck: "never-ack"
        case .slow: "slow"
        case .booting: "booting"
        case .cancelOnSecondPress: "cancel-on-second-press"
        case .manual: "manual"
        case .script: "script"
        }
    }

    /// The persona with its options, as a configuration would spell it (`slow(factor: 4)`).
    public var description: String {
        switch self {
        case .slow(let factor): return "slow(factor: \(factor))"
        case .booting(let until, let scan):
            return "booting(boot-ms: \(Double(until) / 1e6), boot-scan-removes: \(scan))"
        case .script(let steps): return "script([\(steps.map(\.description).joined(separator: ", "))])"
        default: return name
        }
    }

    // MARK: What the persona makes the guest do

    /// The factor applied to the configured latencies.
    var latencyFactor: Double {
        if case .slow(let factor) = self { return factor }
        return 1
    }

    /// Whether this is a script persona.
    var isScript: Bool {
        if case .script = self { return true }
        return false
    }
}
