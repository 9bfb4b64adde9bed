import Foundation

/// The spellings the CLI and the job config share: `rate` (a fraction or `adaptive`),
/// `budget` (`params=0.4`, `flops=0.5`), `criteria` (names, comma-separated).
extension MFISOptions {
    /// What is wrong with a spelled option: the option's name and why.
    public struct SpellingError: Error, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    /// `rate` and `budget` as given (either may be absent, not both present); no rate and no
    /// budget is the default rate, 0.3.
    public static func target(rate: String?, budget: String?) throws(SpellingError) -> Target {
        if rate != nil, budget != nil {
            throw SpellingError(field: "budget", message: "give a rate or a budget, not both")
        }
        if let budget { return try parseBudget(budget) }
        guard let rate else { return .rate(0.3) }
        if rate == "adaptive" { return .adaptive }
        guard let r = Double(rate) else {
            throw SpellingError(field: "rate", message: "'\(rate)' is neither a number nor 'adaptive'")
        }
        return .rate(r)
    }

    /// `params=0.4` or `flops=0.5`: the fraction of each model's parameters (FLOPs) kept.
    public static func parseBudget(_ text: String) throws(SpellingError) -> Target {
        let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let measure = BudgetMeasure(rawValue: parts[0].lowercased()) else {
            throw SpellingError(field: "budget", message: "'\(text)' is not params=F or flops=F")
        }
        guard let fraction = Double(parts[1]) else {
            throw SpellingError(field: "budget", message: "'\(parts[1])' is not a number")
        }
        return .budget(measure, fraction)
    }

    /// Criterion names, comma-separated (`magnitude,irreplaceability`).
    public static func parseCriteria(_ text: String) throws(SpellingError) -> Set<Criterion> {
        try parseCriteria(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    public static func parseCriteria(_ names: [String]) throws(SpellingError) -> Set<Criterion> {
        var set = Set<Criterion>()
        for name in names {
            guard let c = Criterion(rawValue: name.lowercased()) else {
                throw SpellingError(field: "criteria", message: "unknown criterion '\(name)' (known: \(Criterion.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            set.insert(c)
        }
        guard !set.isEmpty else { throw SpellingError(field: "criteria", message: "name at least one criterion") }
        return set
    }
}

extension MFISOptions.Target {
    /// The rate, when pre-specified.
    public var rate: Double? {
        if case let .rate(r) = self { return r }
        return nil
    }
}
