// Everything a test needs to run the real rngpoold and talk to it.
#pragma once

#include "rngpool/test/accounts.hpp"
#include "rngpool/test/binaries.hpp"
#include "rngpool/test/child_process.hpp"
#include "rngpool/test/documents.hpp"
#include "rngpool/test/eventually.hpp"
#include "rngpool/test/fifo_feeder.hpp"
#include "rngpool/test/notify_socket.hpp"
#include "rngpool/test/privileges.hpp"
#include "rngpool/test/process_usage.hpp"
#include "rngpool/test/requests.hpp"
#include "rngpool/test/run_command.hpp"
#include "rngpool/test/sanitizer.hpp"
#include "rngpool/test/temp_dir.hpp"
#include "rngpool/test/test_connection.hpp"
#include "rngpool/test/test_daemon.hpp"
#include "rngpool/test/unix_socket.hpp"
