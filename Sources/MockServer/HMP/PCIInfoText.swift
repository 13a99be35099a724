import QMPWire

/// HMP's `info pci`: QEMU's text rendering of `query-pci` (`hmp_info_pci`), so the two views of the
/// topology come from one source.
enum PCIInfoText {
    /// Renders a `query-pci` reply (`[PciInfo]`).
    static func render(_ reply: JSONValue) -> String {
        var out = ""
        for bus in reply.arrayValue ?? [] {
            for device in bus.objectValue?["devices"]?.arrayValue ?? [] {
                if let device = device.objectValue { render(device, into: &out) }
            }
        }
        return out
    }

    private static func render(_ device: JSONObject, into out: inout String) {
        func int(_ value: JSONValue?) -> Int64 { value?.int64Value ?? 0 }
        func hex(_ value: Int64, _ width: Int) -> String {
            let digits = String(UInt64(bitPattern: value), radix: 16)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: " ", count: max(0, width - digits.count)) + digits
        }
        out += "  Bus \(pad(int(device["bus"]), 2)), device \(pad(int(device["slot"]), 3)), "
        out += "function \(int(device["function"])):\n    "
        let classInfo = device["class_info"]?.objectValue
        if let desc = classInfo?["desc"]?.stringValue {
            out += desc
        } else {
            out += "Class \(pad(int(classInfo?["class"]), 4).replacingSpacesWithZeros())"
        }
        let ids = device["id"]?.objectValue
        out += ": PCI device \(hex(int(ids?["vendor"]), 4)):\(hex(int(ids?["device"]), 4))\n"
        if let vendor = ids?["subsystem-vendor"]?.int64Value, let subsystem = ids?["subsystem"]?.int64Value {
            out += "      PCI subsystem \(hex(vendor, 4)):\(hex(subsystem, 4))\n"
        }
        if let irq = device["irq"]?.int64Value {
            let pin = Character(Unicode.Scalar(UInt8(truncatingIfNeeded: 64 + int(device["irq_pin"]))))
            out += "      IRQ \(irq), pin \(pin)\n"
        }
        let bridge = device["pci_bridge"]?.objectValue
        if let bus = bridge?["bus"]?.objectValue {
            func range(_ name: String, _ width: Int) -> String {
                let r = bus[name]?.objectValue
                return "[0x\(hex(int(r?["base"]), width)), 0x\(hex(int(r?["limit"]), width))]"
            }
            out += "      BUS \(int(bus["number"])).\n"
            out += "      secondary bus \(int(bus["secondary"])).\n"
            out += "      subordinate bus \(int(bus["subordinate"])).\n"
            out += "      IO range \(range("io_range", 4))\n"
            out += "      memory range \(range("memory_range", 8))\n"
            out += "      prefetchable memory range \(range("prefetchable_range", 8))\n"
        }
        for region in device["regions"]?.arrayValue ?? [] {
            guard let region = region.objectValue else { continue }
            let address = int(region["address"])
            let last = address &+ int(region["size"]) &- 1
            out += "      BAR\(int(region["bar"])): "
            if region["type"]?.stringValue == "io" {
                out += "I/O at 0x\(hex(address, 4)) [0x\(hex(last, 4))].\n"
            } else {
                let bits = region["mem_type_64"]?.boolValue == true ? 64 : 32
                let prefetch = region["prefetch"]?.boolValue == true ? " prefetchable" : ""
                out += "\(bits) bit\(prefetch) memory at 0x\(hex(address, 8)) [0x\(hex(last, 8))].\n"
            }
        }
        out += "      id \"\(device["qdev_id"]?.stringValue ?? "")\"\n"
        for child in bridge?["devices"]?.arrayValue ?? [] {
            if let child = child.objectValue { render(child, into: &out) }
        }
    }
}

extension String {
    fileprivate func replacingSpacesWithZeros() -> String { String(map { $0 == " " ? "0" : $0 }) }
}
