#include "services/password/policy_bootstrap.h"

#include <iostream>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "services/common/status_macros.h"
#include "services/policy/policy_loader.h"

namespace iam::password {

absl::Status ApplyPasswordPolicyAtStart(const std::string& policy_dir,
                                        bool apply_always,
                                        PasswordManager* manager,
                                        const CommitFn& commit) {
  if (policy_dir.empty()) return absl::OkStatus();
  if (!apply_always && !manager->policy().defaults_only) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> files,
                   policy::PolicyFilesInDir(policy_dir));
  ASSIGN_OR_RETURN(iam::v1::PolicyDocument doc, policy::LoadPolicyOrError(files));
  const PasswordManager::PolicyView current = manager->policy();
  if (!current.defaults_only &&
      google::protobuf::util::MessageDifferencer::Equals(current.configured,
                                                         doc.password_policy())) {
    return absl::OkStatus();  // already in force: nothing to write or record
  }
  ASSIGN_OR_RETURN(Revision revision, manager->SetPolicy(doc.password_policy(), commit));
  std::cerr << "iamd: applied the password policy from " << policy_dir
            << " at revision " << revision << "\n";
  return absl::OkStatus();
}

}  // namespace iam::password
