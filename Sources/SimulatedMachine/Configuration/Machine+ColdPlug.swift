import QMPWire

extension Machine {
    /// Creates the configured backends and devices in QEMU's order (objects, chardevs, blockdevs,
    /// netdevs, then devices as QEMU creates `-device` options: cold plug, no hotplug checks, no
    /// events), then resets the machine as QEMU does before the guest starts.
    /// - Throws: the first device QEMU would refuse, with QEMU's text and the configuration line.
    public func coldPlug(_ configuration: MachineConfiguration) throws(MachineConfigurationError) {
        addModels(configuration.catalogAdditions)
        for object in configuration.objects {
            do throws(QMPError) {
                try objectAdd(object.arguments)
            } catch {
                let name = Self.optionName(object.arguments, type: "qom-type")
                throw MachineConfigurationError(line: object.line, message: "-object \(name): \(error.desc)")
            }
        }
        for chardev in configuration.chardevs {
            do throws(QMPError) {
                let arguments = chardev.arguments
                try QAPIArguments([QAPIArgument("id", .string), QAPIArgument("backend", .object)]).validate(arguments)
                _ = try chardevAdd(id: arguments["id"]?.stringValue ?? "", backend: arguments["backend"])
            } catch {
                let type = chardev.arguments["backend"]?.objectValue?["type"]?.stringValue ?? ""
                let id = chardev.arguments["id"]?.stringValue.map { "\(type),id=\($0)" } ?? type
                throw MachineConfigurationError(line: chardev.line, message: "-chardev \(id): \(error.desc)")
            }
        }
        for (index, arguments) in configuration.blockdevs.enumerated() {
            do throws(QMPError) {
                try blockdevAdd(arguments)
            } catch {
                let line = index < configuration.blockdevLines.count ? configuration.blockdevLines[index] : nil
                throw MachineConfigurationError(line: line, message: "-blockdev: \(error.desc)")
            }
        }
        for netdev in configuration.netdevs {
            do throws(QMPError) {
                try netdevAdd(netdev.arguments, monitor: "")
            } catch {
                let type = netdev.arguments["type"]?.stringValue ?? ""
                let name = netdev.arguments["id"]?.stringValue.map { "\(type),id=\($0)" } ?? type
                throw MachineConfigurationError(line: netdev.line, message: "-netdev \(name): \(error.desc)")
            }
        }
        for spec in configuration.devices {
            do throws(QMPError) {
                try addDevice(spec.arguments, hotplug: false)
            } catch {
                let name = spec.id.map { "\(spec.driver),id=\($0)" } ?? spec.driver
                throw MachineConfigurationError(line: spec.line, message: "-device \(name): \(error.desc)")
            }
        }
        resetDevices()
    }

    /// `TYPE,id=ID` of an option's arguments, as QEMU's command-line errors name the option.
    private static func optionName(_ arguments: JSONObject, type key: String) -> String {
        let type = arguments[key]?.stringValue ?? ""
        return arguments["id"]?.stringValue.map { "\(type),id=\($0)" } ?? type
    }
}
