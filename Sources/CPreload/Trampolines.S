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
#endif
    .section .note.GNU-stack,"",@progbits
