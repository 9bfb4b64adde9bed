/// How an encoding makes its first candidates and its children.
public protocol Variation: Sendable {
    associatedtype Variables: Hashable & Sendable

    /// A random candidate for the initial population.
    func sample(using rng: inout Xoshiro256StarStar) -> Variables

    /// Two children of two parents: recombination, then mutation of each child.
    func offspring(_ a: Variables, _ b: Variables, using rng: inout Xoshiro256StarStar) -> (Variables, Variables)
}
