// Command-line parsing for iamctl's subcommands.
//
// Each subcommand declares its own flags (absl flags are process-global and
// cannot differ per subcommand). Accepted forms: "--name value",
// "--name=value", switches ("--yes"), repeatable flags ("--group a --group
// b"), "-h"/"--help", and "--" to end the flags. Anything else that starts
// with '-' (other than "-" itself) is an unknown flag.
// ParsedArgs is immutable once returned and may be shared across threads.
#ifndef IAM_ADMIN_ARGS_H_
#define IAM_ADMIN_ARGS_H_

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace iam::admin {

enum class FlagKind {
  kSwitch,    // "--yes": present or not; takes no value.
  kValue,     // "--name N": at most once.
  kRepeated,  // "--group G": any number of times, values kept in order.
};

struct FlagSpec {
  std::string name;  // Without the leading "--".
  FlagKind kind = FlagKind::kValue;
  std::string value_name;  // For help, e.g. "ID"; unused for switches.
  std::string help;
};

class ParsedArgs {
 public:
  // Whether the flag was given (a switch, or a value flag at least once).
  bool Has(absl::string_view flag) const;
  // The value of a kValue flag, or nullopt if absent.
  absl::optional<std::string> Value(absl::string_view flag) const;
  // Every value of a kRepeated flag, in order; empty if absent.
  std::vector<std::string> Values(absl::string_view flag) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // "-h" or "--help" was given.
  bool help() const { return help_; }

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<FlagSpec>&,
                                              const std::vector<std::string>&,
                                              size_t*);
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// Parses `args` (without the program name) against `flags`. Returns
// InvalidArgument naming the problem for an unknown flag, a missing value, a
// value given to a switch, or a kValue flag given twice.
//
// If `stopped_at` is not null, parsing stops at the first positional argument
// and *stopped_at is set to its index (args.size() if there is none); this
// lets a caller read leading global flags before a subcommand name.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<FlagSpec>& flags,
                                     const std::vector<std::string>& args,
                                     size_t* stopped_at = nullptr);

// One help line per flag: "  --name VALUE   help", aligned.
std::string FlagHelp(const std::vector<FlagSpec>& flags);

}  // namespace iam::admin

#endif  // IAM_ADMIN_ARGS_H_
