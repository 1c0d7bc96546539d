// Symbol visibility for librngpool: the shared library exports only its API.
#pragma once

#define RNGPOOL_API __attribute__((visibility("default")))
