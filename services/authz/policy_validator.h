// ValidatePolicy: every problem in a policy document, each tied to the object
// and field that has it, so that a linter can point at the line and an apply
// can refuse with a precise message. Pure; thread-safe.
#ifndef IAM_SERVICES_AUTHZ_POLICY_VALIDATOR_H_
#define IAM_SERVICES_AUTHZ_POLICY_VALIDATOR_H_

#include <string>
#include <vector>

#include "proto/iam/v1/policy.pb.h"

namespace iam::authz {

// Upper bounds on a policy document that ValidatePolicy enforces.
inline constexpr size_t kMaxDescriptionLength = 1000;
inline constexpr int kMaxPolicyObjects = 100000;  // per repeated field
inline constexpr int kMaxRoleEntries = 10000;     // permissions or inherits of a role

struct PolicyIssue {
  std::string object_type;  // "permission", "role" or "scope"
  int index;                // index of the object in its repeated field of the PolicyDocument
  std::string name;         // the object's name / path as written
  std::string field;        // e.g. "name", "permissions", "inherits", "path"
  int field_index;          // index inside a repeated field, or -1
  std::string message;      // what is wrong and how to fix it
};

// Every problem in the document (empty vector means valid): bad names,
// duplicates, a role naming an undeclared permission or role, inheritance
// cycles (message names the cycle path a -> b -> a), scopes whose parent is
// not declared (root "/" is implicit), empty descriptions are allowed.
//
// Also reported: the root "/" declared as a scope (it is implicit), a
// permission or inherited role listed twice in one role, descriptions longer
// than kMaxDescriptionLength, and more than kMaxPolicyObjects objects in one
// repeated field or kMaxRoleEntries entries in one role list (reported once,
// on the field, with index -1 for an oversized document field).
//
// Issues are ordered: permissions; roles (names and entries in document
// order, then cycles); scopes. Each cycle is reported once, on the role and
// inherits entry that closes it.
std::vector<PolicyIssue> ValidatePolicy(const iam::v1::PolicyDocument& doc);

// "roles[3] \"line_lead\" inherits[1]: <message>": an issue as one line.
std::string FormatIssue(const PolicyIssue& issue);

}  // namespace iam::authz

#endif  // IAM_SERVICES_AUTHZ_POLICY_VALIDATOR_H_
