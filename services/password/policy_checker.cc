#include "services/password/policy_checker.h"

#include <zxcvbn.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace iam::password {
namespace {

// Parts of a display name worth rejecting: words of 3 or more characters,
// and the whole name without separators.
std::vector<std::string> NameParts(const PersonNames& person) {
  std::vector<std::string> parts;
  auto add = [&](absl::string_view s) {
    std::string folded = FoldForCompare(s);
    // Byte length is a fine proxy for "3 characters or more" here: a shorter
    // CJK name part is still 3+ bytes, and such names are rarely shorter.
    if (folded.size() >= 3) parts.push_back(std::move(folded));
  };
  if (!person.id.empty()) add(person.id);
  std::string joined;
  for (absl::string_view word :
       absl::StrSplit(person.display_name, absl::ByAnyChar(" \t-_.,'"),
                      absl::SkipEmpty())) {
    add(word);
    absl::StrAppend(&joined, word);
  }
  if (!joined.empty()) add(joined);
  return parts;
}

}  // namespace

PasswordPolicyChecker::PasswordPolicyChecker(iam::v1::PasswordPolicy effective,
                                             const Blocklist* cracklib)
    : policy_(std::move(effective)), cracklib_(cracklib) {
  if (policy_.check_shipped_blocklist()) words_.AddLines(ShippedBlocklistText());
  for (const std::string& entry : policy_.blocked_passwords()) words_.Add(entry);
}

int PasswordPolicyChecker::min_length() const {
  return policy_.second_factor_required()
             ? static_cast<int>(policy_.min_length_with_second_factor())
             : static_cast<int>(policy_.min_length());
}

std::vector<std::string> PasswordPolicyChecker::Problems(
    const NormalizedPassword& password, const PersonNames& person) const {
  std::vector<std::string> problems;
  const int min = min_length();
  const int max = static_cast<int>(policy_.max_length());
  if (password.code_points < min) {
    problems.push_back(absl::StrCat("it has ", password.code_points,
                                    " characters; use at least ", min,
                                    " (a passphrase of several words works well)"));
  }
  if (password.code_points > max) {
    problems.push_back(absl::StrCat("it has ", password.code_points,
                                    " characters; use at most ", max));
  }
  if (policy_.require_lowercase() && password.lowercase == 0) {
    problems.push_back("it needs a lowercase letter (factory rule)");
  }
  if (policy_.require_uppercase() && password.uppercase == 0) {
    problems.push_back("it needs an uppercase letter (factory rule)");
  }
  if (policy_.require_digit() && password.digits == 0) {
    problems.push_back("it needs a digit (factory rule)");
  }
  if (policy_.require_symbol() && password.symbols == 0) {
    problems.push_back(
        "it needs a symbol: a character that is not a letter, digit or space "
        "(factory rule)");
  }
  const absl::string_view text = password.text.reveal();
  if (auto why = words_.Find(text)) problems.push_back(*why);
  if (policy_.check_cracklib() && cracklib_ != nullptr) {
    if (auto why = cracklib_->Find(text)) problems.push_back(*why);
  }
  if (policy_.reject_name_and_id()) {
    std::string folded = FoldForCompare(text);
    for (const std::string& part : NameParts(person)) {
      if (folded.find(part) != std::string::npos) {
        problems.push_back(part == FoldForCompare(person.id)
                               ? "it contains the person's id"
                               : "it contains the person's name");
        break;
      }
    }
    WipeString(&folded);
  }
  if (policy_.min_strength_bits() > 0) {
    const double bits = StrengthBits(password, person);
    if (bits < policy_.min_strength_bits()) {
      problems.push_back(absl::StrCat(
          "it is too easy to guess (about ", static_cast<int>(bits),
          " bits; the policy asks for ", policy_.min_strength_bits(),
          "): avoid keyboard patterns, repeats and common words alone"));
    }
  }
  return problems;
}

double PasswordPolicyChecker::StrengthBits(const NormalizedPassword& password,
                                           const PersonNames& person) {
  std::vector<std::string> words = NameParts(person);
  std::vector<const char*> dict;
  for (const std::string& w : words) dict.push_back(w.c_str());
  dict.push_back(nullptr);
  // zxcvbn needs a NUL-terminated copy; keep it in a wiped secret.
  std::string copy(password.text.reveal());
  const double bits = ZxcvbnMatch(copy.c_str(), dict.data(), nullptr);
  WipeString(&copy);
  return bits;
}

const char* PasswordPolicyChecker::StrengthLabel(double bits) {
  if (bits < 28) return "very weak";
  if (bits < 36) return "weak";
  if (bits < 60) return "fair";
  return "strong";
}

}  // namespace iam::password
