public import QMPWire

/// The QEMU release whose behaviour qmp-mock reproduces (`--qemu-version`): the version it reports
/// and the differences between releases that clients can see. Later features hang their
/// version-dependent behaviour on this one value.
public struct QEMUProfile: Sendable, Equatable, CustomStringConvertible {
    /// The releases qmp-mock can play.
    public static let supported: [String] = ["7.2.0", "8.2.0", "10.0.0"]
    /// The default: 8.2, the release the v8 "pci hotplug tracking" series targeted.
    public static let defaultVersion = "8.2.0"

    /// The version reported by the greeting and `query-version`.
    public let version: QEMUVersion

    /// Makes the profile of a supported release, or nil.
    /// - Parameters:
    ///   - text: `7.2.0`, `8.2.0` or `10.0.0`.
    ///   - package: the `package` string of `VersionInfo`.
    public init?(_ text: String, package: String) {
        guard Self.supported.contains(text), let version = QEMUVersion(text, package: package) else { return nil }
        self.version = version
    }

    /// `query-status` carries `singlestep` (always false) up to 8.2; 9.0 removed it.
    public var statusHasSingleStep: Bool { !version.isAtLeast(9, 0) }

    public var description: String { version.description }
}

extension QEMUProfile {
    /// Reset style of PCIe slots and SHPC slots: 8.0 changed the reset values (`.qemu8`).
    public var isQEMU7: Bool { !version.isAtLeast(8, 0) }
    /// A `hotplug=off` port makes its bus non-hotpluggable (`Bus 'x' does not support hotplugging`)
    /// instead of failing in the port's pre-plug check (`Hot-plug failed: unsupported by the port
    /// device 'x'`): seen on 10.0, and already in the context of the v8 series, so from 8.2 on.
    public var portHotplugOffHidesBus: Bool { version.isAtLeast(8, 2) }
    /// `device_add` checks the device class's hot-pluggability before the bus (10.0) rather than at realize.
    public var checksDeviceHotpluggableFirst: Bool { version.isAtLeast(10, 0) }
    /// Until 9.2 `device_add` goes through QemuOpts: a string `id` must be an identifier, scalars
    /// become text (`true` is `on`), and arrays, objects and null are dropped without a word. Since
    /// then arguments keep their JSON types, and `driver` and `bus` count only as strings.
    public var deviceAddUsesQemuOpts: Bool { !version.isAtLeast(9, 2) }
    /// A function added at an automatically chosen address behind a port whose function 0 is taken is
    /// refused (10.0) rather than accepted invisible to the guest (7.2, 8.2).
    public var refusesHiddenFunctionOnAutoAddress: Bool { version.isAtLeast(10, 0) }
    /// PM1 control's byte at PMBASE+5 is its high byte (read shifted, write merged), where 7.2's
    /// handler ignores the address (QEMU 8.1's "acpi: fix acpi_pm_cnt read/write for byte access";
    /// observed on 10.0.2 against 7.2.22, the 8.2 profile by the release it entered).
    public var pmControlDecodesOffset: Bool { version.isAtLeast(8, 1) }
    /// `device_del`/`x-query-hotplug` of a non-device path: `X is not a device` (from 9.2) instead of
    /// `X is not a hotpluggable device`.
    public var notADeviceSuffix: String { version.isAtLeast(9, 2) ? "is not a device" : "is not a hotpluggable device" }
    /// A catalog model as this release has it: its properties through ``adjust(_:)-(DeviceModel.Property)``.
    /// The machine's catalog holds models adjusted once, so every look-up sees the same properties.
    public func adjust(_ model: DeviceModel) -> DeviceModel {
        guard version.isAtLeast(10, 0) else { return model }
        var adjusted = model
        adjusted.properties = model.properties.compactMap(adjust)
        // 10.0.2's virtio-blk has no `scsi` (9.1 removed SCSI passthrough from virtio-blk).
        if model.family == "virtio-blk-pci" { adjusted.properties.removeAll { $0.name == "scsi" } }
        return adjusted
    }

    /// A catalog property as this release has it: nil when the release has no such property, or
    /// with the type its `qom-list` reports. Observed on 10.0.2 against 7.2.22: `addr` is a `str`
    /// and `rombar` an `int32`, and root ports lost `x-native-hotplug` (8.2 keeps 7.2's, unverified).
    private func adjust(_ property: DeviceModel.Property) -> DeviceModel.Property? {
        guard version.isAtLeast(10, 0) else { return property }
        var adjusted = property
        switch property.name {
        case "x-native-hotplug": return nil
        case "addr": adjusted.type = "str"
        case "rombar": adjusted.type = "int32"
        default: break
        }
        return adjusted
    }

    /// `query-named-block-nodes` and `query-block` report a node's `active` flag (10.0.2, measured;
    /// QEMU 10.0 added it with `blockdev-set-active`; 7.2.22 has none, nor has 8.2, unverified).
    public var blockNodesReportActive: Bool { version.isAtLeast(10, 0) }

    /// `query-blockstats` reports the zoned-append counters (`zone_append_*` in `BlockDeviceStats`):
    /// 10.0.2 has them, 7.2.22 not (measured); QEMU 8.1 added them ("Since 8.1" in
    /// qapi/block-core.json), so 8.2 has them (unverified against an 8.2 binary).
    public var blockStatsReportZoneAppend: Bool { version.isAtLeast(8, 1) }

    /// A raw node keeps its size when `block_resize` resizes the file node under it directly
    /// (10.0.2, measured: `query-block` still shows the old size); on 7.2.22 the raw node follows
    /// the file (measured). The release between them that changed it is not known; 8.2 is taken as 7.2
    /// (unverified against an 8.2 binary).
    public var rawNodesKeepSizeWhenFileResized: Bool { version.isAtLeast(10, 0) }

    /// `file` and `host_device` nodes report `format-specific: {type: file, data: {}}` in their image
    /// info (10.0.2, measured; absent on 7.2.22). QEMU 8.0 added it (`ImageInfoSpecificFile`), so
    /// 8.2 has it (unverified against an 8.2 binary).
    public var fileNodesReportFormatSpecific: Bool { version.isAtLeast(8, 0) }

    /// Fd-set clean-up waits for a running VM and empties unused sets when the last monitor client
    /// leaves (7.2.22, measured); 9.1 dropped both ("monitor: Stop removing non-duplicated fds"), as
    /// 10.0.2 shows. 8.2 has 7.2's code (unverified against an 8.2 binary).
    public var fdsetCleanupFollowsRunState: Bool { !version.isAtLeast(9, 1) }
    /// Opening `/dev/fdset/N` names what failed (`Failed to find fdset /dev/fdset/7`, `Failed to find
    /// file descriptor with matching flags=0x2`) and matches `O_DIRECT` as well as the access mode
    /// (10.0.2, measured; 9.1's "monitor: Report errors from monitor_fdset_dup_fd_add" and "monitor:
    /// fdset: Match against O_DIRECT"), rather than `Could not dup FD for /dev/fdset/7 flags 2: No
    /// such file or directory` and the access mode alone (7.2.22, measured; 8.2 taken to be alike).
    public var fdsetOpenReportsMonitorErrors: Bool { version.isAtLeast(9, 1) }

    /// `netdev_del` of a backend a NIC uses keeps the backend (and its descriptors) until the NIC is
    /// destroyed (10.0.2, measured); 7.2.22 closes it at once (measured). Either way the id is free
    /// at once. 8.2 follows 7.2 (unverified: no 8.2 binary was at hand).
    public var netdevDelKeepsBackendOfNIC: Bool { version.isAtLeast(10, 0) }
    /// `netdev_add type=stream` declares `reconnect` and `reconnect-ms` (10.0.2's schema; upstream
    /// added `reconnect` in 8.0 and `reconnect-ms` in 9.2, unverified). The 8.2 profile follows its
    /// derived schema, 7.2's, which has neither.
    public var netdevStreamHasReconnect: Bool { version.isAtLeast(9, 2) }

    /// `query-chardev` shows a connected unix socket client as `unix:PATH` (10.0.2) rather than
    /// `unix:` (7.2.22, its unnamed local address). 8.2 is taken to have 7.2's form (unverified).
    public var chardevClientFilenameHasPath: Bool { version.isAtLeast(10, 0) }

    /// Why `chardev=` cannot take a chardev another frontend holds: `chardev 'X' is already in use`
    /// (10.0.2) rather than `Device 'X' is in use` (7.2.22). 8.2 is taken to have 7.2's (unverified).
    public func chardevInUse(_ id: String) -> String {
        version.isAtLeast(10, 0) ? "chardev '\(id)' is already in use" : "Device '\(id)' is in use"
    }

    /// `memory-backend-file` has `offset` and `rom`, and a file smaller than needed is `ID backing store
    /// size 0x3 is too small for 'size' option 0x100000 plus 'offset' option 0x0` (10.0.2) rather than
    /// `backing store size 0x3 does not match 'size' option 0x100000` (7.2.22). Upstream added `offset`
    /// in 8.2, but the 8.2 profile follows its derived schema, 7.2's (unverified against an 8.2 binary).
    public var memoryFileHasOffset: Bool { version.isAtLeast(9, 0) }
    /// A `readonly` `memory-backend-file` whose file is missing fails (10.0.2) instead of creating the
    /// file (7.2.22). 8.2 is taken to have 7.2's (unverified).
    public var memoryFileReadonlyNeedsFile: Bool { version.isAtLeast(9, 0) }
    /// `device_add pc-dimm` checks that the backend's size is a multiple of its alignment before it
    /// checks the `addr` given (10.0.2: `backend memory size must be multiple of 0x200000` first); 7.2.22
    /// checks the address first (`address must be aligned to 0x200000 bytes`). 8.2 is taken to have
    /// 7.2's order (unverified).
    public var dimmChecksSizeBeforeAddress: Bool { version.isAtLeast(9, 0) }
    /// `object-add` of a `secret` declares the deprecated `loaded` member (7.2.22; 10.0.2 has none,
    /// so `loaded` is `Parameter 'loaded' is unexpected`). 8.2 follows 7.2's schema.
    public var secretHasLoaded: Bool { !version.isAtLeast(9, 0) }

    /// The x86 CPU topology has modules (9.0): `-smp` texts name `modules (1)`, an invalid APIC id's text
    /// names `module: 0`, and an explicit 0 in `-smp` is refused (7.2.22 warns). 8.2 is taken to have
    /// 7.2's (unverified).
    public var cpuTopologyHasModules: Bool { version.isAtLeast(9, 0) }
    /// The DSDT's CPU scan (CSCN) reads FLAGS for both the insert and the remove test and clears
    /// REMOVING after its loop (10.0.2), instead of testing REMOVING only without INSERTING and
    /// clearing it inside the loop (7.2.22). 8.2 is taken to have 7.2's (unverified).
    public var cpuScanClearsRemovalAfterLoop: Bool { version.isAtLeast(10, 0) }

    /// The reset style of the slot registers.
    public var pcieResetStyle: PCIeSlot.ResetStyle { isQEMU7 ? .qemu7 : .qemu8 }
    public var shpcStyle: SHPCController.ResetStyle { isQEMU7 ? .qemu7 : .qemu8 }
}
