// The async functions whose return `canceltrace run` watches for a CancellationError (Docs/Run.md).
// Trampolines.S defines, for entry i: the function (a stub jumping to ct_common_call with &ct_call_descs[i]),
// its `Tu` AsyncFunctionPointer (context size set at load time) and resume stub i.
#define CT_CALL_HOOK_COUNT 12
static const struct { const char *function; const char *via; } ct_call_hook_names[CT_CALL_HOOK_COUNT] = {
    {"$sScTss5NeverORszABRs_rlE5sleep11nanosecondsys6UInt64V_tYaKFZ", "Task.sleep"},
    {"$sScTss5NeverORszABRs_rlE5sleep5until9tolerance5clocky7InstantQyd___8DurationQyd__Sgqd__tYaKs5ClockRd__lFZ", "Task.sleep"},
    {"$ss5ClockP5sleep5until9tolerancey7InstantQz_8DurationQzSgtYaKFTj", "Clock.sleep"},
    {"$ss15ContinuousClockV5sleep5until9toleranceyAB7InstantV_s8DurationVSgtYaKF", "ContinuousClock.sleep"},
    {"$ss15SuspendingClockV5sleep5until9toleranceyAB7InstantV_s8DurationVSgtYaKF", "SuspendingClock.sleep"},
    {"$sScT5valuexvg", "Task.value"},
    {"$sScg4nextxSgyYaKF", "ThrowingTaskGroup.next"},
    {"$sScg4next9isolationxSgScA_pSgYi_tYaKF", "ThrowingTaskGroup.next"},
    {"$ss27withTaskCancellationHandler9operation8onCancelxxyYaKXE_yyYbXEtYaKlF", "withTaskCancellationHandler"},
    {"$ss27withTaskCancellationHandler9operation8onCancel9isolationxxyYaKXE_yyYbXEScA_pSgYitYaKlF", "withTaskCancellationHandler"},
    {"$ss31withCheckedThrowingContinuation8function_xSS_yScCyxs5Error_pGXEtYaKlF", "withCheckedThrowingContinuation"},
    {"$ss31withCheckedThrowingContinuation9isolation8function_xScA_pSgYi_SSyScCyxs5Error_pGXEtYaKlF", "withCheckedThrowingContinuation"},
};
extern uint32_t ct_tu_0[2] __asm__("$sScTss5NeverORszABRs_rlE5sleep11nanosecondsys6UInt64V_tYaKFZTu"), ct_tu_1[2] __asm__("$sScTss5NeverORszABRs_rlE5sleep5until9tolerance5clocky7InstantQyd___8DurationQyd__Sgqd__tYaKs5ClockRd__lFZTu"), ct_tu_2[2] __asm__("$ss5ClockP5sleep5until9tolerancey7InstantQz_8DurationQzSgtYaKFTjTu"), ct_tu_3[2] __asm__("$ss15ContinuousClockV5sleep5until9toleranceyAB7InstantV_s8DurationVSgtYaKFTu"), ct_tu_4[2] __asm__("$ss15SuspendingClockV5sleep5until9toleranceyAB7InstantV_s8DurationVSgtYaKFTu"), ct_tu_5[2] __asm__("$sScT5valuexvgTu"), ct_tu_6[2] __asm__("$sScg4nextxSgyYaKFTu"), ct_tu_7[2] __asm__("$sScg4next9isolationxSgScA_pSgYi_tYaKFTu"), ct_tu_8[2] __asm__("$ss27withTaskCancellationHandler9operation8onCancelxxyYaKXE_yyYbXEtYaKlFTu"), ct_tu_9[2] __asm__("$ss27withTaskCancellationHandler9operation8onCancel9isolationxxyYaKXE_yyYbXEScA_pSgYitYaKlFTu"), ct_tu_10[2] __asm__("$ss31withCheckedThrowingContinuation8function_xSS_yScCyxs5Error_pGXEtYaKlFTu"), ct_tu_11[2] __asm__("$ss31withCheckedThrowingContinuation9isolation8function_xScA_pSgYi_SSyScCyxs5Error_pGXEtYaKlFTu");
static uint32_t *const ct_call_tus[CT_CALL_HOOK_COUNT] = {ct_tu_0, ct_tu_1, ct_tu_2, ct_tu_3, ct_tu_4, ct_tu_5, ct_tu_6, ct_tu_7, ct_tu_8, ct_tu_9, ct_tu_10, ct_tu_11};
extern char ct_call_resume_0[], ct_call_resume_1[], ct_call_resume_2[], ct_call_resume_3[], ct_call_resume_4[], ct_call_resume_5[], ct_call_resume_6[], ct_call_resume_7[], ct_call_resume_8[], ct_call_resume_9[], ct_call_resume_10[], ct_call_resume_11[];
static char *const ct_call_resumes[CT_CALL_HOOK_COUNT] = {ct_call_resume_0, ct_call_resume_1, ct_call_resume_2, ct_call_resume_3, ct_call_resume_4, ct_call_resume_5, ct_call_resume_6, ct_call_resume_7, ct_call_resume_8, ct_call_resume_9, ct_call_resume_10, ct_call_resume_11};
