import QMPWire
import SimulatedMachine
import Testing

/// The catalog a machine holds is adjusted once to its release (facts of QEMU 10.0.2 against 7.2.22):
/// `qom-list` and `device_add` look up the same properties.
@Suite struct ProfileCatalogTests {
    func propertyTypes(_ machine: Machine, _ path: String) throws -> [String: String] {
        guard case .array(let list) = try machine.qomList(path) else { return [:] }
        var types: [String: String] = [:]
        for case .object(let entry) in list {
            if let name = entry["name"]?.stringValue, let type = entry["type"]?.stringValue { types[name] = type }
        }
        return types
    }

    @Test func release10TypesAndDroppedProperties() throws {
        let old = try MachineHarness(version: "7.2.0").machine
        let new = try MachineHarness(version: "10.0.0").machine
        let port = "/machine/peripheral/rp1"
        #expect(try propertyTypes(old, port)["x-native-hotplug"] == "bool")
        #expect(try propertyTypes(new, port)["x-native-hotplug"] == nil)
        #expect(try propertyTypes(old, port)["addr"] == "int32")
        #expect(try propertyTypes(new, port)["addr"] == "str")
        #expect(try propertyTypes(new, port)["rombar"] == "int32")
        #expect(new.catalog.model("pcie-root-port")?.property("x-native-hotplug") == nil)
        #expect(old.catalog.model("pcie-root-port")?.property("x-native-hotplug") != nil)
    }
}
