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

    /// The per-process catalog of a release (``DeviceCatalog/adjusted(for:)``) is the one a fresh
    /// adjustment makes, model for model, and a machine's additions stay its own.
    @Test(arguments: QEMUProfile.supported) func sharedCatalogIsTheFreshOne(version: String) throws {
        let profile = try #require(QEMUProfile(version, package: "test"))
        let fresh = DeviceCatalog(adjustedBy: profile.adjust)
        for _ in 0..<2 {
            let shared = DeviceCatalog.adjusted(for: profile)
            #expect(shared.names == fresh.names)
            for name in fresh.names { #expect(shared.model(name) == fresh.model(name), "\(name)") }
        }
        var mine = DeviceCatalog.adjusted(for: profile)
        var model = try #require(mine.model("e1000"))
        model.name = "x-added"
        mine.add(model)
        #expect(mine.model("x-added") != nil && DeviceCatalog.adjusted(for: profile).model("x-added") == nil)
    }
}
