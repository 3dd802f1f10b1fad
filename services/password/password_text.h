// Password text: the checks every password gets before anything else looks
// at it, and its normal form. A password is 1-1024 bytes of valid UTF-8 with
// no control, unassigned, private-use or line/paragraph separator
// characters; spaces and every other printable character are allowed. It is
// normalized with Unicode NFKC, so that the same password typed on two
// keyboards (full-width digits, ligatures, composed or decomposed accents)
// is the same password, and its length is counted in code points after
// normalization (NIST SP 800-63B).
//
// Intermediate buffers that held the password are wiped. Stateless
// functions; thread-safe.
#ifndef IAM_SERVICES_PASSWORD_PASSWORD_TEXT_H_
#define IAM_SERVICES_PASSWORD_PASSWORD_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/password/secret.h"

namespace iam::password {

// Largest password accepted on the wire, in bytes.
inline constexpr size_t kMaxPasswordBytes = 1024;

struct NormalizedPassword {
  SecretString text;   // NFKC, UTF-8
  int code_points = 0;
  // Counts by kind, for composition rules.
  int lowercase = 0;
  int uppercase = 0;
  int digits = 0;
  int symbols = 0;     // neither letter, digit nor space
};

// Validates and normalizes `raw`. INVALID_ARGUMENT (naming `field`, never
// quoting the value) when it is empty, over kMaxPasswordBytes, not UTF-8, or
// holds a forbidden character (the message gives its position).
absl::StatusOr<NormalizedPassword> NormalizePassword(absl::string_view raw,
                                                     absl::string_view field);

// `text` case-folded (full Unicode case folding) after NFKC, for
// case-insensitive comparisons of names and blocklist entries. Invalid UTF-8
// is replaced, not rejected: for non-secret text only, or for secrets whose
// result the caller wipes.
std::string FoldForCompare(absl::string_view text);

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_PASSWORD_TEXT_H_
