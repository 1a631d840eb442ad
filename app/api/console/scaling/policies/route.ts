export { saveScalingPolicy as POST } from "@/lib/control-plane/scaling/console";
