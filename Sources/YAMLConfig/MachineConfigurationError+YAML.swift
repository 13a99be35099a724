public import SimulatedMachine

extension MachineConfigurationError {
    /// The configuration error a YAML error (syntax, or a value of the wrong shape) stands for.
    public init(_ error: YAMLError) {
        self.init(line: error.line, column: error.column, message: error.message)
    }
}
