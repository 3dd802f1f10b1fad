// HR export files for `iamctl hr import`: CSV (RFC 4180: quoted fields,
// doubled quotes, CRLF or LF) with a header row naming the columns, in any
// order:
//   event_id, type, person_id        required on every row
//   effective_at                     RFC 3339 with a zone; empty: now
//   display_name, org_unit, job_code, site, manager_id, reason
// type is hire, move, leave, suspend or reinstate. A hire needs
// display_name, org_unit, job_code and site; a move at least one of
// org_unit, job_code, site, manager_id.
//
// Each row becomes one request, or an error that names the line and what to
// fix: a missing field, an unknown type, a time without a zone, a repeated
// event id ("duplicate of line 7"), the same change twice under two ids.
// Stateless; thread-safe.
#ifndef IAM_SERVICES_LIFECYCLE_HR_CSV_H_
#define IAM_SERVICES_LIFECYCLE_HR_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/iam/v1/lifecycle.pb.h"

namespace iam::lifecycle {

struct HrRow {
  int line = 0;  // 1-based line of the file where the row starts
  iam::v1::HrEventType type = iam::v1::HR_EVENT_TYPE_UNSPECIFIED;
  std::string event_id;
  std::string person_id;
  absl::Time effective;  // for ordering; `now` when the field was empty
  // The request for `type` (the others stay empty).
  iam::v1::HireRequest hire;
  iam::v1::MoveRequest move;
  iam::v1::LeaveRequest leave;
  iam::v1::SuspendRequest suspend;
  iam::v1::ReinstateRequest reinstate;
  // Non-empty: the row is bad and must not be sent.
  std::string error;

  // The HrEvent of the filled request.
  iam::v1::HrEvent* mutable_event();
};

// Every data row of `text`, in file order. INVALID_ARGUMENT for a problem
// of the file as a whole: empty, no header, a required column missing, an
// unknown or repeated column, a quote left open, more than max_rows rows.
absl::StatusOr<std::vector<HrRow>> ParseHrCsv(absl::string_view text, absl::Time now,
                                              size_t max_rows = 1000000);

// "hire", "move", ...
std::string HrEventTypeName(iam::v1::HrEventType type);

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_HR_CSV_H_
