#ifndef AGRITRACE_CMOSQUITTO_SHIM_H
#define AGRITRACE_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
