#include "services/password/blocklist.h"

#include <cstddef>
#include <cstring>

#include <openssl/crypto.h>

extern "C" {
#include <crack.h>
#include <packer.h>
}

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/password/password_text.h"

extern const char kIamShippedBlocklist[];

namespace iam::password {
namespace {

// libcrack2 keeps state in globals: one caller at a time, process-wide.
absl::Mutex crack_mu;

std::string WithoutSpaces(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

}  // namespace

absl::string_view ShippedBlocklistText() { return kIamShippedBlocklist; }

void WordBlocklist::Add(absl::string_view entry) {
  std::string folded = FoldForCompare(entry);
  if (!folded.empty()) entries_.insert(std::move(folded));
}

void WordBlocklist::AddLines(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    Add(line);
  }
}

absl::optional<std::string> WordBlocklist::Find(absl::string_view password) const {
  std::string folded = FoldForCompare(password);
  std::string squeezed = WithoutSpaces(folded);
  const bool found = entries_.contains(folded) || entries_.contains(squeezed);
  WipeString(&folded);
  WipeString(&squeezed);
  if (!found) return absl::nullopt;
  return std::string("it is on the list of common and breached passwords");
}

absl::StatusOr<std::unique_ptr<CracklibBlocklist>> CracklibBlocklist::Open(
    const std::string& path) {
  const std::string prefix = path.empty() ? GetDefaultCracklibDict() : path;
  PWDICT* dict;
  {
    absl::MutexLock lock(&crack_mu);
    dict = PWOpen(prefix.c_str(), const_cast<char*>("r"));
  }
  if (dict == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open the cracklib dictionary \"", prefix,
        "\" (install Debian's cracklib-runtime, or set check_cracklib: false "
        "in the password policy)"));
  }
  return std::unique_ptr<CracklibBlocklist>(new CracklibBlocklist(dict));
}

CracklibBlocklist::~CracklibBlocklist() {
  absl::MutexLock lock(&crack_mu);
  PWClose(static_cast<PWDICT*>(dict_));
}

absl::optional<std::string> CracklibBlocklist::Find(
    absl::string_view password) const {
  char buffer[STRINGSIZE];
  const size_t n = std::min(password.size(), sizeof(buffer) - 1);
  std::memcpy(buffer, password.data(), n);
  buffer[n] = '\0';
  std::string reason;
  {
    absl::MutexLock lock(&crack_mu);
    const char* found = FascistLook(static_cast<PWDICT*>(dict_), buffer);
    if (found != nullptr) reason = found;
  }
  OPENSSL_cleanse(buffer, sizeof(buffer));
  // Length is the policy's own rule (with its own numbers); cracklib's
  // fixed minimum is not.
  if (reason.empty() || reason.find("short") != std::string::npos) {
    return absl::nullopt;
  }
  return absl::StrCat("cracklib: ", reason);
}

}  // namespace iam::password
