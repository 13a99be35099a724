/// One step of a scripted guest (``GuestPersona/script(_:)``): a wait, a raw register write or read, or a
/// wait for a register condition. Steps write exactly what they say (no read-modify-write, no Command
/// Completed handling) unless the step itself acknowledges events.
///
/// Lets a test reproduce a specific guest's register sequence (a vendor driver, a firmware quirk, a guest
/// that powers a slot on without ever turning the power indicator on) instead of Linux's.
///
/// The steps belong to a side (``side``): slot-register steps to a PCIe port or SHPC slot, I/O-port and
/// configuration-space steps to the guest's ACPI side (the controller named `acpi`), `wait-ms` to both.
/// Parsing refuses a step given for the other side; a step built in code for the other side is skipped.
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
    /// ACPI side: the guest's `outb`/`outw`/`outl` (`size` 1, 2 or 4) through ``Machine/ioWrite(port:size:value:)``.
    case ioWrite(port: UInt16, size: Int, value: UInt32)
    /// ACPI side: the guest's `inb`/`inw`/`inl`, value discarded: for the read's side effects (reading the
    /// PCI block's UP register clears it).
    case ioRead(port: UInt16, size: Int)
    /// ACPI side: a configuration-space write through ``Machine/configWrite(bus:slot:function:offset:size:value:)``
    /// (q35's PMBASE and ACPI_EN live in 00:1f.0).
    case configWrite(bus: Int, slot: Int, function: Int, offset: Int, size: Int, value: UInt32)
    /// ACPI side: wait until the SCI is raised (the machine's SCI level is high; re-checked every
    /// ``GuestLatencies/scriptPoll``). Nothing lowers it but the script's own writes to GPE0.
    case waitForSCI
    /// ACPI side: read the port as the guest does (with the read's side effects) every
    /// ``GuestLatencies/scriptPoll`` until `(read & mask) == value`.
    case waitForIO(port: UInt16, size: Int, mask: UInt32, value: UInt32)

    /// Which controllers a step applies to.
    public enum Side: Sendable, Equatable {
        /// PCIe ports and SHPC slots and the ACPI side (`wait-ms`).
        case any
        /// PCIe ports and SHPC slots (slot registers).
        case native
        /// The guest's ACPI side (I/O ports and configuration space).
        case acpi
    }

    /// The side the step applies to.
    public var side: Side {
        switch self {
        case .wait: .any
        case .writeSlotControl, .writeSlotStatus, .shpcCommand, .waitFor, .acknowledgeEvents: .native
        case .ioWrite, .ioRead, .configWrite, .waitForSCI, .waitForIO: .acpi
        }
    }

    /// The step's configuration key (`wait-ms`, `io-write`, ...).
    public var name: String {
        switch self {
        case .wait: "wait-ms"
        case .writeSlotControl: "write-slot-control"
        case .writeSlotStatus: "write-slot-status"
        case .shpcCommand: "shpc-command"
        case .waitFor, .waitForSCI: "wait-for"
        case .acknowledgeEvents: "ack-events"
        case .ioWrite: "io-write"
        case .ioRead: "io-read"
        case .configWrite: "config-write"
        case .waitForIO: "wait-for-io"
        }
    }

    /// The step as a configuration would spell it (`wait-ms: 200`, `write-slot-control: 0x2c0`, ...).
    public var description: String {
        switch self {
        case .wait(let ns):
            let ms = Double(ns) / 1e6
            return ms == ms.rounded() ? "wait-ms: \(Int64(ms))" : "wait-ms: \(ms)"
        case .writeSlotControl(let value): return "write-slot-control: \(hex(value))"
        case .writeSlotStatus(let value): return "write-slot-status: \(hex(value))"
        case .shpcCommand(let code): return "shpc-command: \(hex(code))"
        case .waitFor(let condition): return "wait-for: \(condition.name)"
        case .acknowledgeEvents: return "ack-events"
        case .ioWrite(let port, let size, let value):
            return "io-write: {port: \(hex(port)), size: \(size), value: \(hex(value))}"
        case .ioRead(let port, let size): return "io-read: {port: \(hex(port)), size: \(size)}"
        case .configWrite(let bus, let slot, let function, let offset, let size, let value):
            let address = "\(hex2(bus)):\(hex2(slot)).\(function)"
            return
                "config-write: {address: \"\(address)\", offset: \(hex(offset)), size: \(size), value: \(hex(value))}"
        case .waitForSCI: return "wait-for: sci"
        case .waitForIO(let port, let size, let mask, let value):
            return "wait-for-io: {port: \(hex(port)), size: \(size), mask: \(hex(mask)), value: \(hex(value))}"
        }
    }

    private func hex(_ value: some BinaryInteger) -> String { "0x\(String(value, radix: 16))" }

    private func hex2(_ value: Int) -> String {
        let text = String(value, radix: 16)
        return text.count < 2 ? "0" + text : text
    }
}
