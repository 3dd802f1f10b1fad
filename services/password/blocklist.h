// Blocklists of passwords nobody may choose (NIST SP 800-63B: commonly used,
// expected or compromised values):
//  - WordBlocklist: exact entries compared case-insensitively after NFKC
//    (the list shipped in data/blocklist.txt, plus the policy's
//    blocked_passwords);
//  - CracklibBlocklist: Debian's cracklib dictionary through libcrack2,
//    which also catches dictionary words with simple mangling and
//    systematic strings ("1234567890123456").
//
// Thread-safe: Find may be called concurrently (libcrack2 is not
// reentrant; CracklibBlocklist serializes its calls).
#ifndef IAM_SERVICES_PASSWORD_BLOCKLIST_H_
#define IAM_SERVICES_PASSWORD_BLOCKLIST_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"

namespace iam::password {

class Blocklist {
 public:
  virtual ~Blocklist() = default;
  // Why `password` (NFKC UTF-8) is blocked, in words that do not quote it;
  // nullopt when it is not.
  virtual absl::optional<std::string> Find(absl::string_view password) const = 0;
};

class WordBlocklist final : public Blocklist {
 public:
  // One entry per line; blank lines and lines starting with '#' are skipped.
  void AddLines(absl::string_view text);
  void Add(absl::string_view entry);
  size_t size() const { return entries_.size(); }
  absl::optional<std::string> Find(absl::string_view password) const override;

 private:
  absl::flat_hash_set<std::string> entries_;  // folded
};

// The list shipped in services/password/data/blocklist.txt, compiled in.
absl::string_view ShippedBlocklistText();

class CracklibBlocklist final : public Blocklist {
 public:
  // Opens the packed dictionary at `path` (a prefix such as
  // "/var/cache/cracklib/cracklib_dict"; empty: libcrack2's default).
  // FAILED_PRECONDITION naming the path and the package when it cannot.
  static absl::StatusOr<std::unique_ptr<CracklibBlocklist>> Open(
      const std::string& path);
  ~CracklibBlocklist() override;
  absl::optional<std::string> Find(absl::string_view password) const override;

 private:
  explicit CracklibBlocklist(void* dict) : dict_(dict) {}
  void* const dict_;  // PWDICT*
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_BLOCKLIST_H_
