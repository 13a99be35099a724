/// One step of a scripted guest (``GuestPersona/script(_:)``): a wait, a raw register write, or a wait for a
/// register condition. Steps write exactly what they say (no read-modify-write, no Command Completed
/// handling) unless the step itself acknowledges events.
///
/// Lets a test reproduce a specific guest's register sequence (a vendor driver, a firmware quirk, a guest
/// that powers a slot on without ever turning the power indicator on) instead of Linux's.
public enum GuestScriptStep: Sendable, Equatable, CustomStringConvertible {
    /// Wait this many virtual nanoseconds.
    case wait(Int64)
    /// Write this value to the PCIe port's Slot Control register (ignored on an SHPC slot).
    case writeSlotControl(UInt16)
    /// Write this value to the PCIe port's Slot Status register (RW1C; ignored on an SHPC slot).
    case writeSlotStatus(UInt16)
    /// Issue this SHPC command with the script's slot as target (ignored on a PCIe port).
    case shpcCommand(code: UInt8)
    /// Wait until the condition holds (re-read every ``GuestLatencies/scriptPoll``).
    case waitFor(GuestCondition)
    /// Clear every latched event of the slot: PCIe ABP, PDC and CC (write-1-to-clear of the bits that are
    /// set); SHPC the slot's event latch.
    case acknowledgeEvents

    /// The step as a configuration would spell it (`wait-ms: 200`, `write-slot-control: 0x2c0`, ...).
    public var description: String {
        switch self {
        case .wait(let ns):
            let ms = Double(ns) / 1e6
            return ms == ms.rounded() ? "wait-ms: \(Int64(ms))" : "wait-ms: \(ms)"
        case .writeSlotControl(let value): return "write-slot-control: 0x\(String(value, radix: 16))"
        case .writeSlotStatus(let value): return "write-slot-status: 0x\(String(value, radix: 16))"
        case .shpcCommand(let code): return "shpc-command: 0x\(String(code, radix: 16))"
        case .waitFor(let condition): return "wait-for: \(condition.name)"
        case .acknowledgeEvents: return "ack-events"
        }
    }
}
