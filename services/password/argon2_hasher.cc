#include "services/password/argon2_hasher.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace iam::password {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kTagBytes = 32;
constexpr absl::string_view kPrefix = "$argon2id$v=19$";

absl::Status Malformed(absl::string_view why) {
  return absl::DataLossError(absl::StrCat(
      "the stored password hash is malformed (", why,
      "); set a new password for this person"));
}

bool IsB64(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' ||
          c == '/')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const Argon2Params& params) {
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) {
    return absl::InternalError("the random number generator failed");
  }
  const size_t length =
      argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                        kSaltBytes, kTagBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc = argon2id_hash_encoded(
      params.iterations, params.memory_kib, params.parallelism, password.data(),
      password.size(), salt, sizeof(salt), kTagBytes, &encoded[0], encoded.size());
  OPENSSL_cleanse(salt, sizeof(salt));
  if (rc != ARGON2_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("argon2id: ", argon2_error_message(rc)));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

absl::StatusOr<Argon2Params> ParsePhcParams(absl::string_view phc) {
  if (!absl::StartsWith(phc, kPrefix)) {
    return Malformed("not an Argon2id version 19 PHC string");
  }
  std::vector<absl::string_view> parts =
      absl::StrSplit(phc.substr(kPrefix.size()), '$');
  if (parts.size() != 3 || !IsB64(parts[1]) || !IsB64(parts[2])) {
    return Malformed("expected parameters, salt and hash");
  }
  Argon2Params params;
  int seen = 0;
  for (absl::string_view kv : absl::StrSplit(parts[0], ',')) {
    std::pair<absl::string_view, absl::string_view> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    uint32_t value;
    if (!absl::SimpleAtoi(p.second, &value)) return Malformed("bad parameter");
    if (p.first == "m" && seen == 0) {
      params.memory_kib = value;
    } else if (p.first == "t" && seen == 1) {
      params.iterations = value;
    } else if (p.first == "p" && seen == 2) {
      params.parallelism = value;
    } else {
      return Malformed("parameters must be m, t, p in that order");
    }
    ++seen;
  }
  if (seen != 3) return Malformed("parameters must be m, t, p in that order");
  return params;
}

absl::StatusOr<bool> VerifyPassword(absl::string_view phc,
                                    absl::string_view password) {
  // Parse first: libargon2 would happily decode other variants or
  // truncated strings into an error code we could not tell from a mismatch.
  absl::StatusOr<Argon2Params> params = ParsePhcParams(phc);
  if (!params.ok()) return params.status();
  const std::string encoded(phc);  // NUL-terminated for libargon2
  const int rc = argon2id_verify(encoded.c_str(), password.data(), password.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  return Malformed(argon2_error_message(rc));
}

}  // namespace iam::password
