// Argon2id password hashing with libargon2, in the PHC string format
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), with a fresh 16-byte
// salt from OpenSSL's CSPRNG for every hash and a 32-byte tag.
//
// Stateless functions; thread-safe. Each call is CPU- and memory-heavy
// (about 19 MiB and tens of milliseconds with the defaults): callers run
// them on a bounded pool (bounded_pool.h).
#ifndef IAM_SERVICES_PASSWORD_ARGON2_HASHER_H_
#define IAM_SERVICES_PASSWORD_ARGON2_HASHER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/iam/v1/password_policy.pb.h"

namespace iam::password {

struct Argon2Params {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;

  static Argon2Params From(const iam::v1::Argon2Parameters& p) {
    return {p.memory_kib(), p.iterations(), p.parallelism()};
  }
  bool operator==(const Argon2Params& o) const {
    return memory_kib == o.memory_kib && iterations == o.iterations &&
           parallelism == o.parallelism;
  }
  bool operator!=(const Argon2Params& o) const { return !(*this == o); }
};

// A PHC string of `password` with `params`. INVALID_ARGUMENT for
// parameters libargon2 refuses; INTERNAL if the CSPRNG fails.
absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         const Argon2Params& params);

// Whether `password` matches `phc`. DATA_LOSS (the stored hash is
// malformed: fail closed) when `phc` is not a well-formed Argon2id v19 PHC
// string; the message never contains the hash or the password.
absl::StatusOr<bool> VerifyPassword(absl::string_view phc,
                                    absl::string_view password);

// The parameters encoded in `phc`; DATA_LOSS when malformed.
absl::StatusOr<Argon2Params> ParsePhcParams(absl::string_view phc);

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_ARGON2_HASHER_H_
