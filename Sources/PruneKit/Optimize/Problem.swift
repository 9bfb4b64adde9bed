/// What a problem reports for one candidate: its objectives, all minimized, and how far it
/// is from feasible (0 when feasible; the sum of the constraints' violations otherwise).
public struct Evaluation: Sendable, Equatable {
    public var objectives: [Double]
    public var constraintViolation: Double

    public init(objectives: [Double], constraintViolation: Double = 0) {
        self.objectives = objectives
        self.constraintViolation = max(0, constraintViolation)
    }

    public var isFeasible: Bool { constraintViolation <= 0 }
}

/// A many-objective minimization problem over some encoding of its candidates.
///
/// `evaluate` may be called from several threads at once (the optimizer evaluates a
/// population in parallel when asked), hence `Sendable`.
public protocol MultiObjectiveProblem: Sendable {
    associatedtype Variables: Hashable & Sendable

    var objectiveCount: Int { get }

    func evaluate(_ x: Variables) -> Evaluation

    /// Moves a candidate the operators produced back into the space the problem accepts
    /// (say, a keep mask back to the counts a pruning rate demands). Called on every new
    /// candidate before it is evaluated. The default leaves it as it is.
    func repair(_ x: inout Variables, using rng: inout Xoshiro256StarStar)
}

extension MultiObjectiveProblem {
    public func repair(_ x: inout Variables, using rng: inout Xoshiro256StarStar) {}
}

/// Real variables in a box.
public protocol RealValuedProblem: MultiObjectiveProblem where Variables == [Double] {
    var bounds: [ClosedRange<Double>] { get }
}

/// Keep/drop bits laid out in blocks (one block per channel group, one bit per channel).
public protocol BlockBinaryProblem: MultiObjectiveProblem where Variables == [Bool] {
    var layout: BlockLayout { get }
}

/// One member of a population.
public struct Individual<Variables: Sendable>: Sendable {
    public var variables: Variables
    public var objectives: [Double]
    public var constraintViolation: Double

    public init(variables: Variables, evaluation: Evaluation) {
        self.variables = variables
        self.objectives = evaluation.objectives
        self.constraintViolation = evaluation.constraintViolation
    }

    public var isFeasible: Bool { constraintViolation <= 0 }
}

extension Individual: Equatable where Variables: Equatable {}
