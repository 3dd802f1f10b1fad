// AlertEvaluator: runs the audit alert rules of the policy
// (policy/audit.textproto, AuditAlertRule in proto/iam/v1/policy.proto) over
// each record as it is written, and returns the alert records to append
// right after it: kind ALERT, action "audit.alert", target the rule's name,
// alert_sequences the records that fired it.
//
// Conditions: repeated_events (N matching records for one person or target
// within a window: failed logins, denied badges), off_schedule (a matching
// record outside the allowed shifts of a time zone: key-area entry at night),
// any_record (every match: a change to an admin role).
//
// Not thread-safe: StoreAuditLog calls it from its writer thread only.
#ifndef IAM_SERVICES_AUDIT_ALERTS_H_
#define IAM_SERVICES_AUDIT_ALERTS_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/iam/v1/audit.pb.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::audit {

inline constexpr char kAlertAction[] = "audit.alert";
inline constexpr char kAlertCaller[] = "svc:audit-alerts";

// INVALID_ARGUMENT naming the first bad rule and what to fix.
absl::Status ValidateAlertRules(const std::vector<iam::v1::AuditAlertRule>& rules);

class AlertEvaluator {
 public:
  // REQUIRES: ValidateAlertRules(rules) is OK (checked again: error if not).
  static absl::StatusOr<std::unique_ptr<AlertEvaluator>> Create(
      std::vector<iam::v1::AuditAlertRule> rules);

  // The alerts `record` (already sequenced and timed) fires. Alert records
  // themselves fire nothing.
  std::vector<iam::v1::AuditRecord> Observe(const iam::v1::AuditRecord& record);

  size_t rule_count() const { return rules_.size(); }

 private:
  struct Shift {
    std::vector<int> days;  // 0 = Monday ... 6 = Sunday
    int start_minute;
    int end_minute;
  };
  struct Rule {
    iam::v1::AuditAlertRule proto;
    absl::TimeZone zone;
    std::vector<Shift> shifts;
    // repeated_events: recent matching (time, sequence) per person/target.
    absl::flat_hash_map<std::string, std::deque<std::pair<int64_t, int64_t>>>
        recent;
    int64_t last_sweep_micros = 0;
  };

  explicit AlertEvaluator(std::vector<Rule> rules) : rules_(std::move(rules)) {}
  static bool InSchedule(const Rule& rule, absl::Time time);

  std::vector<Rule> rules_;
};

}  // namespace iam::audit

#endif  // IAM_SERVICES_AUDIT_ALERTS_H_
