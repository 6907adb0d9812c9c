/*
 * advice.c - the texts of advice that several layers give, each in one
 * place.
 */
#include "gmrenew/common.h"

const char gm_advice_offline[] =
	N_("renew offline: mail the Ekey and the completed certificate "
	   "business form (证书业务信息表) to the CA");
