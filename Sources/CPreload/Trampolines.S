// The two shared trampolines behind every per-closure stub (Hooks.c, struct ct_desc). A stub loads its
// descriptor into %rax and jumps here. Linux x86_64 only; elsewhere the library records nothing.
#if defined(__linux__) && defined(__x86_64__)
    .text

// A task's first instruction. %r14 = the task's initial async context, %r13 = closure context, %rdi = indirect
// result. Saves the argument registers, lets C install the end trampoline and the cancellation handler, then
// jumps to the closure's real entry (descriptor offset 8) with every register as it arrived.
    .globl ct_common_entry
    .hidden ct_common_entry
    .type ct_common_entry, @function
ct_common_entry:
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq %r8
    pushq %r9
    pushq %rax
    pushq %rbx
    movq %rsp, %rbx
    andq $-16, %rsp
    movq %r14, %rdi
    movq %rax, %rsi
    call ct_on_task_start
    movq %rbx, %rsp
    popq %rbx
    popq %rax
    popq %r9
    popq %r8
    popq %rcx
    popq %rdx
    popq %rsi
    popq %rdi
    jmpq *8(%rax)
    .size ct_common_entry, .-ct_common_entry

// Runs in place of the task's ResumeParent: %r14 = the initial context, %r13 = the error thrown (or 0). C records
// the end and returns the runtime's original ResumeParent, which gets the same registers.
    .globl ct_common_end
    .hidden ct_common_end
    .type ct_common_end, @function
ct_common_end:
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %rcx
    pushq %r8
    pushq %r9
    pushq %r13
    pushq %r14
    pushq %rax
    pushq %rbx
    movq %rsp, %rbx
    andq $-16, %rsp
    movq %r14, %rdi
    movq %r13, %rsi
    movq %rax, %rdx
    call ct_on_task_end
    movq %rax, %r11
    movq %rbx, %rsp
    popq %rbx
    popq %rax
    popq %r14
    popq %r13
    popq %r9
    popq %r8
    popq %rcx
    popq %rdx
    popq %rsi
    popq %rdi
    jmpq *%r11
    .size ct_common_end, .-ct_common_end

// A hooked async function's entry (CallHooks.S): %rax = its ct_call_desc {via; function; room_offset; resume}.
// %r14 = the context the caller allocated (with our larger size) and filled with Parent and ResumeParent. Saves
// ResumeParent in our room at the end of the context, puts the function's resume stub there and jumps to the
// runtime's function with every argument register untouched (%r10 and %r11 are not argument registers).
    .globl ct_common_call
    .hidden ct_common_call
    .type ct_common_call, @function
ct_common_call:
    movl 16(%rax), %r11d
    movq 8(%r14), %r10
    movq %r10, (%r14,%r11)
    movq 24(%rax), %r10
    movq %r10, 8(%r14)
    jmpq *8(%rax)
    .size ct_common_call, .-ct_common_call

// The hooked function returned: %r11 = its descriptor, %r14 = its context, %r13 = the error thrown (or 0), direct
// results in %rax, %rdx, %rcx, %r8 and %xmm0-3. C records a delivery and returns the caller's ResumeParent.
    .globl ct_common_call_end
    .hidden ct_common_call_end
    .type ct_common_call_end, @function
ct_common_call_end:
    pushq %rax
    pushq %rdx
    pushq %rcx
    pushq %r8
    pushq %r9
    pushq %rdi
    pushq %rsi
    pushq %r13
    pushq %r14
    pushq %rbx
    movq %rsp, %rbx
    andq $-16, %rsp
    subq $64, %rsp
    movdqu %xmm0, (%rsp)
    movdqu %xmm1, 16(%rsp)
    movdqu %xmm2, 32(%rsp)
    movdqu %xmm3, 48(%rsp)
    movq %r14, %rdi
    movq %r13, %rsi
    movq %r11, %rdx
    call ct_on_call_end
    movq %rax, %r11
    movdqu (%rsp), %xmm0
    movdqu 16(%rsp), %xmm1
    movdqu 32(%rsp), %xmm2
    movdqu 48(%rsp), %xmm3
    movq %rbx, %rsp
    popq %rbx
    popq %r14
    popq %r13
    popq %rsi
    popq %rdi
    popq %r9
    popq %r8
    popq %rcx
    popq %rdx
    popq %rax
    jmpq *%r11
    .size ct_common_call_end, .-ct_common_call_end
#endif
    .section .note.GNU-stack,"",@progbits
