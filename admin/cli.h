// iamctl's dispatcher: finds the command named on the command line, parses
// its flags together with the global ones, resolves the connection options,
// opens the connection if the command needs the server, runs it and returns
// the exit code. Also prints the help (`iamctl --help`, `iamctl help`,
// `iamctl COMMAND --help`, `iamctl GROUP --help`).
//
// RunIamctl has no global state; one call per run, on one thread.
#ifndef IAM_ADMIN_CLI_H_
#define IAM_ADMIN_CLI_H_

#include <string>
#include <vector>

#include "admin/command.h"

namespace iam::admin {

// Every command iamctl knows, in help order.
std::vector<Command> AllCommands();

// Runs iamctl with `args` (argv without the program name). Returns the exit
// code (exit_codes.h).
int RunIamctl(const std::vector<std::string>& args, const CliEnvironment& env);

// `iamctl --help`.
std::string MainHelp(const std::vector<Command>& commands);

}  // namespace iam::admin

#endif  // IAM_ADMIN_CLI_H_
