/// The PM I/O block's fixed registers (``PM1Block``) as the guest's port accesses reach them, the
/// power button (`system_powerdown`) and the guest's soft-off: QEMU's `acpi_pm1_evt`, `acpi_pm1_cnt`
/// and `acpi_pm_tmr` on q35 and pc.
extension Machine {
    /// The PM timer's ticks at the current virtual time.
    var pmTimerTicks: Int64 { PM1Block.ticks(atNanoseconds: clock.now) }

    /// `system_powerdown`: `POWERDOWN`, and the power button pressed: PWRBTN_STS set, and the SCI
    /// raised, when the guest enabled the button (PWRBTN_EN). A guest that never enabled it sees
    /// nothing, as under QEMU (`acpi_pm1_evt_power_down`).
    public func powerdown() {
        emit(MachineEvent(.powerdown))
        guard acpi.pm1.enable & PM1Block.powerButton != 0 else { return }
        acpi.pm1.status |= PM1Block.powerButton
        updateSCI()
    }

    /// A guest access of `size` bytes at `port`, which ``ioRegion(_:)`` puts in the PM block: split as
    /// QEMU's memory core splits it (chunks no larger than the address's alignment, the register's
    /// width, or what is left of it), each chunk handled by its register. `write` nil is a read.
    func pmBlockAccess(port: UInt16, size: Int, write: UInt32?) -> UInt32 {
        var result: UInt32 = 0
        var done = 0
        while done < size {
            let address = port &+ UInt16(done)
            let alignment = address == 0 ? 4 : min(4, Int(address & (0 &- address)))
            let value = write.map { $0 >> (UInt32(done) * 8) }
            var chunk = min(size - done, alignment)
            var read: UInt32 = 0
            switch ioRegion(address) {
            case .pm1Event(let offset):
                chunk = min(chunk, 2, 4 - offset)
                if let value {
                    pm1EventWrite(offset: offset, value: UInt16(truncatingIfNeeded: value & Self.allOnes(chunk)))
                } else {
                    read = pm1EventRegister(offset: offset) & Self.allOnes(chunk)
                }
            case .pm1Control(let offset):
                chunk = min(chunk, 2, 2 - offset)
                // 7.2's handler ignores the address (a byte at PMBASE+5 is the low byte); from 8.1 the
                // byte at +5 is the high byte.
                let shift = profile.pmControlDecodesOffset ? UInt32(offset) * 8 : 0
                if let value {
                    var written = value & Self.allOnes(chunk)
                    if shift != 0 { written = written << shift | UInt32(acpi.pm1.control) & 0xFF }
                    pm1ControlWrite(UInt16(truncatingIfNeeded: written))
                } else {
                    read = UInt32(acpi.pm1.control) >> shift & Self.allOnes(chunk)
                }
            case .pmTimer(let offset):
                chunk = min(chunk, 4 - offset)
                // Aligned 4-byte reads only (`valid.min_access_size = 4`): anything else reads 0.
                if write == nil, chunk == 4 { read = UInt32(truncatingIfNeeded: pmTimerTicks & 0xFF_FFFF) }
            default:
                read = write == nil ? Self.allOnes(chunk) : 0
            }
            result |= read << (UInt32(done) * 8)
            done += chunk
        }
        return write == nil ? result : 0
    }

    /// PM1 status (offset 0) or enable (offset 2) as a 16-bit read at `offset` returns it; 0 at an
    /// odd offset, which QEMU's handler does not decode.
    private func pm1EventRegister(offset: Int) -> UInt32 {
        switch offset {
        case 0: UInt32(acpi.pm1.status(atTicks: pmTimerTicks))
        case 2: UInt32(acpi.pm1.enable)
        default: 0
        }
    }

    private func pm1EventWrite(offset: Int, value: UInt16) {
        switch offset {
        case 0: acpi.pm1.writeStatus(value, atTicks: pmTimerTicks)
        case 2: acpi.pm1.enable = value
        default: return
        }
        updateSCI()
    }

    /// A write to PM1 control; SLP_EN carries out its sleep type: 0 is soft-off (a guest shutdown),
    /// 2 (`s4_val`) is suspend-to-disk (`SUSPEND_DISK`, then the same shutdown). S3 (1) is not
    /// modelled: the write is stored and nothing else happens (docs/acpi.md).
    private func pm1ControlWrite(_ value: UInt16) {
        guard let sleepType = acpi.pm1.writeControl(value) else { return }
        switch sleepType {
        case 0: guestShutdown()
        case Self.suspendToDiskType:
            emit(MachineEvent(.suspendDisk))
            guestShutdown()
        default: break
        }
    }

    /// The SLP_TYP value of S4 on both boards (`s4_val`, 2 unless a `-global` changes it).
    static let suspendToDiskType = 2

    /// The guest powered the machine off: `SHUTDOWN` (`guest-shutdown`); then, with `-no-shutdown`,
    /// a running VM stops in the `shutdown` state (`STOP`), which only `system_reset` leaves; without
    /// it, ``exitRequested`` tells the server to end the process, as QEMU exits.
    func guestShutdown() {
        if exitsOnGuestShutdown { exitRequested = true }
        emit(.shutdown(guest: true, reason: "guest-shutdown"))
        guard !exitsOnGuestShutdown, runState.isRunning else { return }
        runState = .shutdown
        clock.setRunning(false)
        emit(MachineEvent(.stop))
    }
}
