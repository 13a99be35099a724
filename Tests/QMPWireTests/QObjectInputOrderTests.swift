import Testing

@testable import QMPWire

/// The member QEMU names among several unexpected ones: answers recorded from QEMU 7.2.22
/// (`Parameter 'NAME' is unexpected`), reproduced through the QDict and GLib hash-table order.
struct QObjectInputOrderTests {
    /// An object with these members, in this order (as parsed).
    static func object(_ names: [String]) -> JSONObject { JSONObject(names.map { ($0, JSONValue.null) }) }

    @Test func govmmsNetdevAddNamesScriptWhateverTheInputOrder() throws {
        // netdev_add type=user with tap's members: id and type are visited, three are left over.
        for names in [
            ["downscript", "id", "ifname", "script", "type"], ["type", "id", "script", "ifname", "downscript"],
        ] {
            #expect(QObjectInputOrder.firstLeftOver(in: Self.object(names), visited: ["id", "type"]) == "script")
        }
    }

    @Test(arguments: [
        (["beta", "zz", "ifname"], "beta"),
        (["beta", "foo-bar", "script", "fd", "vnet_hdr", "a1", "queues"], "fd"),
        // Eight members fill the first table: GLib resizes it.
        (["zz", "y", "br", "x", "fd", "gamma", "beta", "queues"], "fd"),
        (
            [
                "c3", "gamma", "queues", "zz", "helper", "downscript", "y", "sndbuf", "delta", "a1", "foo-bar", "br",
                "x",
                "vnet_hdr", "script", "beta", "fd", "vhost", "b2", "alpha",
            ], "vnet_hdr"
        ),
    ])
    func queryStatusWithOnlyUnexpectedMembers(names: [String], expected: String) {
        #expect(QObjectInputOrder.firstLeftOver(in: Self.object(names), visited: []) == expected)
    }

    @Test func theValidatorNamesTheSameMember() {
        let arguments = QAPIArguments([QAPIArgument("id", .string), QAPIArgument("type", .string)])
        let object = JSONObject([
            ("downscript", .string("no")), ("id", .string("u0")), ("ifname", .string("x")),
            ("script", .string("no")), ("type", .string("user")),
        ])
        #expect(throws: QMPError.unexpectedParameter("script")) { try arguments.validate(object) }
    }
}
