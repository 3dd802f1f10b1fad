// iamctl's commands, by area; the dispatcher (cli.h) gathers them. Each
// area is defined in <area>_commands.cc.
#ifndef IAM_ADMIN_COMMANDS_H_
#define IAM_ADMIN_COMMANDS_H_

#include <vector>

#include "admin/command.h"

namespace iam::admin {

// check, permissions, who-can; role, permission and scope list / show / put /
// delete; bind, unbind, bindings.
std::vector<Command> AuthzCommands();
// person create, show, list, update, attest.
std::vector<Command> IdentityCommands();
// audit query.
std::vector<Command> AuditCommands();
// policy lint, policy apply.
std::vector<Command> PolicyCommands();
// password set, unlock, revoke, status, check, policy show, policy apply.
std::vector<Command> PasswordCommands();
// hr hire, move, leave, suspend, reinstate, attest, event, history, import.
std::vector<Command> HrCommands();
// badge issue, lost, list; area who-can-enter, log.
std::vector<Command> BadgeCommands();

}  // namespace iam::admin

#endif  // IAM_ADMIN_COMMANDS_H_
