import GuestSim
import QMPWire
import SimulatedMachine

/// Connects the simulated guest to the machine and the control plane: the `guest:` section of the
/// configuration, `guest-set-persona`, personas in `machine-state`, guest register writes as
/// `GUEST_REGISTER_WRITE` control events, and the guest's re-initialisation after `system_reset`.
enum GuestWiring {
    /// Attaches the guest described by the configuration's `guest:` section (Linux by default).
    static func attach(core: ServerCore, guest configuration: GuestConfiguration) {
        let guest = GuestOS(machine: core.machine, configuration: configuration)
        core.attachments.append(guest)
        guest.onRegisterWrite = { [unowned core] in core.guestRegisterWrite($0) }
        core.personaName = { [unowned guest] controller, slot in guest.persona(controller: controller, slot: slot).name
        }
        core.afterSystemReset = { [unowned guest] in guest.guestReset() }
        let arguments = QAPIArguments(
            [
                QAPIArgument("persona", .string), QAPIArgument("controller", .string, optional: true),
                QAPIArgument("slot", .int, optional: true),
            ],
            allowsExtraMembers: true
        )
        core.registerControl(
            QMPCommand("guest-set-persona", arguments: arguments) { call throws(QMPError) in
                // The handler is @Sendable; the guest lives in the core, confined to the same queue.
                guard let guest = call.core.attachments.lazy.compactMap({ $0 as? GuestOS }).first else {
                    throw .generic("no simulated guest")
                }
                let name = call.arguments["persona"]?.stringValue ?? ""
                let persona: GuestPersona
                do throws(MachineConfigurationError) {
                    persona = try GuestPersona.parse(name: name, options: call.arguments)
                } catch {
                    throw .generic(error.message)
                }
                try guest.setPersona(
                    persona,
                    controller: call.arguments["controller"]?.stringValue,
                    slot: call.arguments["slot"]?.int64Value.map { Int($0) }
                )
                return .object(JSONObject())
            }
        )
    }
}
