/// Explains why a regular expression does not compile, for configuration errors.
public enum RegexSyntax {
    /// Why ICU rejected `pattern`, in the words Go's regexp uses where it can tell
    /// (`missing closing )`, `invalid nested repetition operator **`, …); call it only after
    /// compilation failed.
    public static func explain(_ pattern: String) -> String {
        CompiledPattern.diagnose(pattern)
    }
}
