#include "services/password/argon2_hasher.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/status_macros.h"
#include "services/password/hash_memory.h"

namespace iam::password {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kTagBytes = 32;
// The longest tag a stored hash may carry (libargon2 allows up to 2^32-1).
constexpr size_t kMaxTagBytes = 1024;
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

// Base64 as PHC strings write it: the standard alphabet, no padding.
std::string B64(const unsigned char* data, size_t size) {
  std::string out = absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// Decodes `text` (checked by IsB64) and refuses any other spelling of the
// same bytes, as libargon2's own decoder does.
bool UnB64(absl::string_view text, std::string* out) {
  return absl::Base64Unescape(text, out) &&
         B64(reinterpret_cast<const unsigned char*>(out->data()), out->size()) ==
             text;
}

// A context whose block memory comes from the calling thread's region
// (hash_memory.h) instead of a fresh 19 MiB allocation per hash.
argon2_context ContextFor(const Argon2Params& params, absl::string_view password,
                          const unsigned char* salt, size_t salt_size,
                          unsigned char* out, size_t out_size) {
  argon2_context context{};
  context.out = out;
  context.outlen = static_cast<uint32_t>(out_size);
  // libargon2 only reads the password (ARGON2_DEFAULT_FLAGS: no clearing).
  context.pwd = reinterpret_cast<uint8_t*>(const_cast<char*>(password.data()));
  context.pwdlen = static_cast<uint32_t>(password.size());
  context.salt = const_cast<uint8_t*>(salt);
  context.saltlen = static_cast<uint32_t>(salt_size);
  context.t_cost = params.iterations;
  context.m_cost = params.memory_kib;
  context.lanes = params.parallelism;
  context.threads = params.parallelism;
  context.version = ARGON2_VERSION_13;
  context.allocate_cbk = hash_memory::Allocate;
  context.free_cbk = hash_memory::Release;
  context.flags = ARGON2_DEFAULT_FLAGS;
  return context;
}

absl::Status HashFailure(int rc) {
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return absl::ResourceExhaustedError(
        "argon2id: no memory for the hash; retry later");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("argon2id: ", argon2_error_message(rc)));
}

// A PHC string's parts: parameters, and the salt and tag still in base64.
struct Phc {
  Argon2Params params;
  absl::string_view salt;
  absl::string_view tag;
};

// Splits and checks `phc`; DATA_LOSS when it is not an Argon2id v19 PHC
// string with m, t, p and base64 salt and tag.
absl::StatusOr<Phc> SplitPhc(absl::string_view phc) {
  if (!absl::StartsWith(phc, kPrefix)) {
    return Malformed("not an Argon2id version 19 PHC string");
  }
  std::vector<absl::string_view> parts =
      absl::StrSplit(phc.substr(kPrefix.size()), '$');
  if (parts.size() != 3 || !IsB64(parts[1]) || !IsB64(parts[2])) {
    return Malformed("expected parameters, salt and hash");
  }
  Phc out{Argon2Params{}, parts[1], parts[2]};
  Argon2Params& params = out.params;
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
  return out;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const Argon2Params& params) {
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) {
    return absl::InternalError("the random number generator failed");
  }
  if (password.size() > ARGON2_MAX_PWD_LENGTH) {
    return absl::InvalidArgumentError("argon2id: password is too long");
  }
  unsigned char tag[kTagBytes];
  absl::Cleanup cleanse = [&] {
    OPENSSL_cleanse(salt, sizeof(salt));
    OPENSSL_cleanse(tag, sizeof(tag));
  };
  argon2_context context =
      ContextFor(params, password, salt, sizeof(salt), tag, sizeof(tag));
  const int rc = argon2_ctx(&context, Argon2_id);
  if (rc != ARGON2_OK) return HashFailure(rc);
  return absl::StrCat(kPrefix, "m=", params.memory_kib, ",t=", params.iterations,
                      ",p=", params.parallelism, "$", B64(salt, sizeof(salt)), "$",
                      B64(tag, sizeof(tag)));
}

absl::StatusOr<Argon2Params> ParsePhcParams(absl::string_view phc) {
  ASSIGN_OR_RETURN(Phc parsed, SplitPhc(phc));
  return parsed.params;
}

absl::StatusOr<bool> VerifyPassword(absl::string_view phc,
                                    absl::string_view password) {
  // A malformed stored hash is DATA_LOSS, never a mismatch: fail closed and
  // say so.
  ASSIGN_OR_RETURN(const Phc parsed, SplitPhc(phc));
  std::string salt;
  std::string expected;
  if (!UnB64(parsed.salt, &salt) || !UnB64(parsed.tag, &expected)) {
    return Malformed("salt or hash is not canonical base64");
  }
  if (salt.size() < ARGON2_MIN_SALT_LENGTH || expected.size() < ARGON2_MIN_OUTLEN ||
      expected.size() > kMaxTagBytes) {
    return Malformed("salt or hash of an impossible length");
  }
  if (password.size() > ARGON2_MAX_PWD_LENGTH) return false;
  std::string computed(expected.size(), '\0');
  argon2_context context = ContextFor(
      parsed.params, password, reinterpret_cast<const unsigned char*>(salt.data()),
      salt.size(), reinterpret_cast<unsigned char*>(&computed[0]), computed.size());
  // Computes the tag into `computed` and compares it with `expected` in
  // constant time.
  const int rc = argon2id_verify_ctx(&context, expected.data());
  OPENSSL_cleanse(&computed[0], computed.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) return HashFailure(rc);
  return Malformed(argon2_error_message(rc));
}

}  // namespace iam::password
