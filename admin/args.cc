#include "admin/args.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace iam::admin {

bool ParsedArgs::Has(absl::string_view flag) const {
  return values_.find(flag) != values_.end();
}

absl::optional<std::string> ParsedArgs::Value(absl::string_view flag) const {
  auto it = values_.find(flag);
  if (it == values_.end() || it->second.empty()) return absl::nullopt;
  return it->second.front();
}

std::vector<std::string> ParsedArgs::Values(absl::string_view flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return {};
  return it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<FlagSpec>& flags,
                                     const std::vector<std::string>& args,
                                     size_t* stopped_at) {
  ParsedArgs parsed;
  if (stopped_at != nullptr) *stopped_at = args.size();
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool is_flag = !flags_ended && arg.size() > 1 && arg[0] == '-';
    if (!is_flag) {
      if (stopped_at != nullptr) {
        *stopped_at = i;
        return parsed;
      }
      parsed.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help_ = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    absl::optional<std::string> inline_value;
    if (const size_t eq = body.find('='); eq != absl::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const auto spec =
        std::find_if(flags.begin(), flags.end(),
                     [&](const FlagSpec& f) { return f.name == body; });
    if (spec == flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", body));
    }
    auto& values = parsed.values_[spec->name];
    if (spec->kind == FlagKind::kSwitch) {
      if (inline_value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", body, " takes no value"));
      }
      values.clear();
      continue;
    }
    std::string value;
    if (inline_value.has_value()) {
      value = *std::move(inline_value);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "flag --", body, " needs a value (", spec->value_name, ")"));
    }
    if (spec->kind == FlagKind::kValue && !values.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", body, " given more than once"));
    }
    values.push_back(std::move(value));
  }
  return parsed;
}

std::string FlagHelp(const std::vector<FlagSpec>& flags) {
  std::vector<std::string> names;
  size_t width = 0;
  for (const FlagSpec& flag : flags) {
    std::string name = absl::StrCat("--", flag.name);
    if (flag.kind != FlagKind::kSwitch)
      absl::StrAppend(&name, " ", flag.value_name);
    if (flag.kind == FlagKind::kRepeated) absl::StrAppend(&name, "...");
    width = std::max(width, name.size());
    names.push_back(std::move(name));
  }
  std::string out;
  for (size_t i = 0; i < flags.size(); ++i) {
    absl::StrAppend(&out, "  ", names[i],
                    std::string(width - names[i].size() + 3, ' '),
                    flags[i].help, "\n");
  }
  return out;
}

}  // namespace iam::admin
