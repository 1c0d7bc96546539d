// librngpool: the whole C++ API.
#pragma once

#include "rngpool/client.hpp"
#include "rngpool/error.hpp"
#include "rngpool/secrets.hpp"
